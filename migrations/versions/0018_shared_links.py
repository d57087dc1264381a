"""download links shared by the patient (issue 18): a link made on the portal's study page for
another doctor names the link it came from and to whom; each access says what it served

`download_links.shared_from` (the patient's link) and `shared_with` (the doctor, as the
disclosure row records them); `download_access_events.item`: `page`, `zip` or
`preview:<name>` for the portal's study page (NULL: the staff app's download).

Revision ID: 0018_shared_links
Revises: 0017_report_indexes
Create Date: 2026-12-01 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_shared_links"
down_revision = "0017_report_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("download_links", sa.Column("shared_from", sa.String(length=32), nullable=True))
    op.add_column("download_links", sa.Column("shared_with", sa.String(length=320), nullable=True))
    op.create_index("ix_download_links_shared_from", "download_links", ["shared_from"])
    op.add_column("download_access_events", sa.Column("item", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("download_access_events", "item")
    op.drop_index("ix_download_links_shared_from", table_name="download_links")
    op.drop_column("download_links", "shared_with")
    op.drop_column("download_links", "shared_from")
