"""accounting suspensions (164.528(a)(2)): append-only

A health oversight agency's or law enforcement official's request to suspend a patient's right
to an accounting of the disclosures made to them, with its end date (written: as stated; oral:
at most 30 days, the official's identity documented). Rows are never changed or removed.

Revision ID: 0013_accounting_suspensions
Revises: 0012_download_devices
Create Date: 2026-12-08 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013_accounting_suspensions'
down_revision = '0012_download_devices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'accounting_suspensions',
        sa.Column('id', sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column('suspension_key', sa.String(length=64), nullable=False, unique=True),
        sa.Column('patient_key', sa.String(length=64), nullable=False),
        sa.Column('agency_type', sa.String(length=32), nullable=False),
        sa.Column('agency_name', sa.String(length=320), nullable=False),
        sa.Column('form', sa.String(length=16), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('statement', sa.String(length=2000), nullable=False),
        sa.Column('official_name', sa.String(length=200), nullable=True),
        sa.Column('official_identity', sa.String(length=200), nullable=True),
        sa.Column('recorded_by', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=True),
    )
    op.create_index(
        'ix_accounting_suspensions_patient_key', 'accounting_suspensions', ['patient_key']
    )
    op.execute(
        "CREATE TRIGGER accounting_suspensions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON accounting_suspensions FOR EACH STATEMENT EXECUTE FUNCTION roi_refuse_change()"
    )
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "REVOKE ALL ON accounting_suspensions FROM roi_app; "
        "GRANT SELECT, INSERT ON accounting_suspensions TO roi_app; "
        "GRANT USAGE ON SEQUENCE accounting_suspensions_id_seq TO roi_app; END IF; END $$;"
    )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS accounting_suspensions_append_only ON accounting_suspensions"
    )
    op.drop_index('ix_accounting_suspensions_patient_key', table_name='accounting_suspensions')
    op.drop_table('accounting_suspensions')
