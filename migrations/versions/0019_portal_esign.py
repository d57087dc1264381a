"""portal e-signature (issue 17): one-time email codes, and the sealed authorizations

`portal_email_codes`: a code sent to prove an email address (ESIGN/UETA attribution) is kept
only as a salted SHA-256 with its expiry, its wrong attempts and when it was used; the address
only as a digest. `portal_signed_documents`: the e-signed authorization as a PAdES-sealed PDF
(PHI, like intake_submissions.payload), stored with its submission in intake's first
transaction, so staff open exactly what the patient signed. Neither table is ever deleted from
by the app.

Revision ID: 0019_portal_esign
Revises: 0018_shared_links
Create Date: 2026-12-01 17:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_portal_esign"
down_revision = "0018_shared_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_email_codes",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("email_digest", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_portal_email_codes_digest", "portal_email_codes", ["email_digest", "created_at"]
    )
    op.create_table(
        "portal_signed_documents",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column(
            "submission_id",
            sa.String(length=32),
            sa.ForeignKey("intake_submissions.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
    )
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "GRANT SELECT, INSERT, UPDATE ON portal_email_codes TO roi_app; "
        "GRANT SELECT, INSERT ON portal_signed_documents TO roi_app; "
        "END IF; END $$;"
    )


def downgrade() -> None:
    op.drop_table("portal_signed_documents")
    op.drop_index("ix_portal_email_codes_digest", table_name="portal_email_codes")
    op.drop_table("portal_email_codes")
