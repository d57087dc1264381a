"""portal uploads (issue 17): the documents requesters send with a portal form

`portal_uploads`: a legal document (guardianship order, death certificate, adoption decree)
uploaded on the portal, its type sniffed from its bytes and re-encoded by the portal (Pillow,
pikepdf) so nothing active or hidden is kept, then sealed with AES-256-GCM under a
ROI_PAYLOAD_KEYS key (`key_id`; the row's id is bound as associated data). Stored with its
submission in intake's first transaction; opened only by staff who may open the request. Never
deleted from or changed by the app.

Revision ID: 0021_portal_uploads
Revises: 0020_claim_next_index
Create Date: 2026-12-01 17:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_portal_uploads"
down_revision = "0020_claim_next_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_uploads",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column(
            "submission_id",
            sa.String(length=32),
            sa.ForeignKey("intake_submissions.id"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column(
            "stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
    )
    op.create_index("ix_portal_uploads_submission", "portal_uploads", ["submission_id"])
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "GRANT SELECT, INSERT ON portal_uploads TO roi_app; "
        "END IF; END $$;"
    )


def downgrade() -> None:
    op.drop_index("ix_portal_uploads_submission", table_name="portal_uploads")
    op.drop_table("portal_uploads")
