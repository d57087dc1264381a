"""fulfillment: download links and access events, batch items and runs

Revision ID: 0004_fulfillment
Revises: 0003_staff_web
Create Date: 2026-11-25 08:30:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0004_fulfillment'
down_revision = '0003_staff_web'
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'download_links',
        sa.Column('id', sa.String(length=32), primary_key=True),
        sa.Column('delivery_key', sa.String(length=200), nullable=False, unique=True),
        sa.Column('request_id', sa.String(length=32), nullable=False, index=True),
        sa.Column('patient_key', sa.String(length=64), nullable=True),
        sa.Column('package_path', sa.String(length=500), nullable=False),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        _ts('created_at', False),
        _ts('expires_at', False),
        _ts('revoked_at'),
        sa.Column('revoked_by', sa.String(length=64), nullable=True),
        _ts('sent_at'),
    )
    op.create_table(
        'download_access_events',
        sa.Column('id', sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column('link_id', sa.String(length=32), nullable=True, index=True),
        sa.Column('request_id', sa.String(length=32), nullable=True, index=True),
        _ts('at', False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=True),
    )
    # access events are an audit trail: append-only, like request_events
    op.execute(
        """
        CREATE OR REPLACE FUNCTION roi_download_access_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'download_access_events is append-only';
        END;
        $$;
        """
    )
    op.execute(
        "CREATE TRIGGER download_access_append_only BEFORE UPDATE OR DELETE ON "
        "download_access_events FOR EACH ROW EXECUTE FUNCTION roi_download_access_append_only()"
    )
    op.create_table(
        'batch_items',
        sa.Column('delivery_key', sa.String(length=200), primary_key=True),
        sa.Column('request_id', sa.String(length=32), nullable=False, index=True),
        sa.Column('workflow_id', sa.String(length=40), nullable=False),
        sa.Column('site', sa.String(length=16), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('delivery', postgresql.JSONB(), nullable=False),
        _ts('queued_at', False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('batch_id', sa.String(length=64), nullable=True, index=True),
        sa.Column('reference', sa.String(length=200), nullable=True),
        sa.Column('carrier_tracking_number', sa.String(length=64), nullable=True),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('hold_reason', sa.String(length=200), nullable=True),
        _ts('sent_at'),
        _ts('signalled_at'),
    )
    op.create_index('ix_batch_items_ready', 'batch_items', ['site', 'status', 'queued_at'])
    op.create_table(
        'batch_runs',
        sa.Column('batch_id', sa.String(length=64), primary_key=True),
        sa.Column('site', sa.String(length=16), nullable=False, index=True),
        _ts('started_at', False),
        _ts('finished_at'),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('counts', postgresql.JSONB(), nullable=True),
        sa.Column('artifacts', postgresql.JSONB(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('batch_runs')
    op.drop_index('ix_batch_items_ready', table_name='batch_items')
    op.drop_table('batch_items')
    op.execute("DROP TRIGGER IF EXISTS download_access_append_only ON download_access_events")
    op.execute("DROP FUNCTION IF EXISTS roi_download_access_append_only()")
    op.drop_table('download_access_events')
    op.drop_table('download_links')
