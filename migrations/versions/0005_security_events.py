"""security events: an append-only record of security-relevant actions (codec decodes first)

Revision ID: 0005_security_events
Revises: 0004_fulfillment
Create Date: 2026-12-01 11:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0005_security_events'
down_revision = '0004_fulfillment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'security_events',
        sa.Column('id', sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('now()')),
        sa.Column('actor', sa.String(length=64), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=True),
        sa.Column('detail', postgresql.JSONB(), nullable=True),
    )
    op.create_index('ix_security_events_at', 'security_events', ['at'])
    op.create_index('ix_security_events_action_at', 'security_events', ['action', 'at'])
    # Append-only, as the audit trail: the database refuses UPDATE, DELETE and TRUNCATE.
    op.execute(
        "CREATE TRIGGER security_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON "
        "security_events FOR EACH STATEMENT EXECUTE FUNCTION roi_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS security_events_append_only ON security_events")
    op.drop_table('security_events')
