"""staff enrolment links: admins never set a password

A new account, or one whose password an admin reset, has no password until its owner follows a
one-time enrolment link (expiring, single use; only the token's SHA-256 is stored) and sets one.

Revision ID: 0008_staff_enrolment
Revises: 0007_throttle_buckets
Create Date: 2026-12-08 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008_staff_enrolment'
down_revision = '0007_throttle_buckets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('staff_users', 'password_hash', existing_type=sa.String(length=255),
                    nullable=True)
    op.create_table(
        'staff_enrolments',
        sa.Column('token_hash', sa.String(length=64), primary_key=True),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_staff_enrolments_user_id', 'staff_enrolments', ['user_id'])
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON staff_enrolments TO roi_app; END IF; END $$;"
    )


def downgrade() -> None:
    op.drop_index('ix_staff_enrolments_user_id', table_name='staff_enrolments')
    op.drop_table('staff_enrolments')
    op.execute("UPDATE staff_users SET password_hash = '!' WHERE password_hash IS NULL")
    op.alter_column('staff_users', 'password_hash', existing_type=sa.String(length=255),
                    nullable=False)
