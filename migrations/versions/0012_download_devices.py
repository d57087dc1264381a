"""download links: the device of each access (a one-way hash of its random cookie)

After a link's first download, any other device, or the same one after some hours, must
confirm the patient's date of birth (app/routes/download.py); each access records the device's
hash so staff and the privacy officer see which devices used a link.

Revision ID: 0012_download_devices
Revises: 0009_staff_mfa
Create Date: 2026-12-08 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012_download_devices'
down_revision = '0009_staff_mfa'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'download_access_events', sa.Column('device', sa.String(length=64), nullable=True)
    )
    op.create_index(
        'ix_download_access_events_link_device', 'download_access_events', ['link_id', 'device']
    )


def downgrade() -> None:
    op.drop_index('ix_download_access_events_link_device', table_name='download_access_events')
    op.drop_column('download_access_events', 'device')
