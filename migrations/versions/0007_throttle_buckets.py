"""throttle buckets: one row per throttled key, updated under a row lock (no race)

Each sign-in attempt, download link use or intake API call reserves its place in its bucket
(SELECT ... FOR UPDATE in one transaction) before the password or token is checked, so parallel
attempts cannot all pass a limit that only one of them should have.

Revision ID: 0007_throttle_buckets
Revises: 0006_app_role
Create Date: 2026-12-01 12:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007_throttle_buckets'
down_revision = '0006_app_role'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'throttle_buckets',
        sa.Column('bucket', sa.String(length=128), primary_key=True),
        sa.Column('count', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_throttle_buckets_last_at', 'throttle_buckets', ['last_at'])
    # The app's role (0006) gets its rows; default privileges cover the owner that made 0006,
    # this covers a table made by another one.
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON throttle_buckets TO roi_app; END IF; END $$;"
    )


def downgrade() -> None:
    op.drop_index('ix_throttle_buckets_last_at', table_name='throttle_buckets')
    op.drop_table('throttle_buckets')
