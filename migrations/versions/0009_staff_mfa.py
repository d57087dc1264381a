"""staff second factor: TOTP secrets (sealed), recovery codes (hashed), half-signed sessions

A password alone opens only a pending session (mfa_pending), good for nothing but entering the
second factor; the TOTP secret is stored sealed with AES-GCM (app/mfa.py), the last accepted
time step is kept so a code works once, and recovery codes are kept as SHA-256 hashes.

Revision ID: 0009_staff_mfa
Revises: 0008_staff_enrolment
Create Date: 2026-12-08 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_staff_mfa'
down_revision = '0008_staff_enrolment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff_mfa',
        sa.Column('user_id', sa.String(length=32), primary_key=True),
        sa.Column('sealed_secret', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
    )
    op.create_table(
        'staff_recovery_codes',
        sa.Column('code_hash', sa.String(length=64), primary_key=True),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_staff_recovery_codes_user_id', 'staff_recovery_codes', ['user_id'])
    op.add_column('staff_sessions', sa.Column('mfa_pending', sa.Boolean(), nullable=False,
                                              server_default=sa.false()))
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON staff_mfa, staff_recovery_codes TO roi_app; "
        "END IF; END $$;"
    )


def downgrade() -> None:
    op.drop_column('staff_sessions', 'mfa_pending')
    op.drop_index('ix_staff_recovery_codes_user_id', table_name='staff_recovery_codes')
    op.drop_table('staff_recovery_codes')
    op.drop_table('staff_mfa')
