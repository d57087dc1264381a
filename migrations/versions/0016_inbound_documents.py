"""inbound documents (issue 19): faxes, emailed scans and staff uploads, stored first

Every document that arrives (fax gateway webhook, the ROI mailbox over IMAP, a scan staff
upload) is a row holding its bytes, committed before anything else runs; OCR then fills in its
text, what was read from it and its page images (PNG) for the split screen. `source_key` makes
a retried webhook or a second poll of the same mailbox message store nothing twice. Columns
holding PHI: content, filename, sender, ocr_text, extraction, confirmed, and the page images.
Documents are never deleted (a discarded one keeps its row and the reason).

Revision ID: 0016_inbound_documents
Revises: 0015_request_search
Create Date: 2026-12-01 13:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016_inbound_documents"
down_revision = "0015_request_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_documents",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("site", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=300), nullable=True, unique=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("uploaded_by", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, server_default="received"),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("ocr_text", sa.Text(), nullable=True),
        sa.Column("extraction", postgresql.JSONB(), nullable=True),
        sa.Column("ocr_error", sa.String(length=64), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed", postgresql.JSONB(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=32), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_id", sa.String(length=32), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("tracking_number", sa.String(length=16), nullable=True),
        sa.Column("discarded_reason", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_inbound_documents_site_status",
        "inbound_documents",
        ["site", "status", "received_at"],
    )
    op.create_index("ix_inbound_documents_request_id", "inbound_documents", ["request_id"])
    op.create_table(
        "inbound_document_pages",
        sa.Column(
            "document_id",
            sa.String(length=32),
            sa.ForeignKey("inbound_documents.id"),
            primary_key=True,
        ),
        sa.Column("page", sa.Integer(), primary_key=True),
        sa.Column("png", sa.LargeBinary(), nullable=False),
    )
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "GRANT SELECT, INSERT, UPDATE ON inbound_documents, inbound_document_pages TO roi_app; "
        "END IF; END $$;"
    )


def downgrade() -> None:
    op.drop_table("inbound_document_pages")
    op.drop_index("ix_inbound_documents_request_id", table_name="inbound_documents")
    op.drop_index("ix_inbound_documents_site_status", table_name="inbound_documents")
    op.drop_table("inbound_documents")
