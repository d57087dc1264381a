"""staff web app: accounts, sessions, throttles, API tokens, claim indexes

Revision ID: 0003_staff_web
Revises: 0002
Create Date: 2026-11-25 06:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql


revision = '0003_staff_web'
down_revision = '0002'
branch_labels = None
depends_on = None

_ACTIONABLE = "'received', 'awaiting_verification', 'ready_to_release', 'under_review'"
_TERMINAL = "'completed', 'denied', 'cancelled', 'expired', 'rejected'"
_KEY = "site, team, status, received_day, target_due_at, due_at, due_date, breached, at_risk, legal_risk"


def _key_of(r: str) -> str:
    return (
        f"{r}.site, {r}.team, {r}.status, date_trunc('day', {r}.received_at, 'UTC'), "
        f"COALESCE({r}.target_due_at, 'infinity'), {r}.due_at, {r}.due_date, {r}.breached, "
        f"{r}.at_risk, {r}.legal_risk"
    )


def upgrade() -> None:
    op.create_table('staff_users',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sites', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('all_sites', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('staff_sessions',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('flash', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_staff_sessions_user_id'), 'staff_sessions', ['user_id'], unique=False)
    op.create_table('throttle_hits',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('bucket', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_throttle_hits_bucket_at', 'throttle_hits', ['bucket', 'at'], unique=False)
    op.create_table('api_tokens',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_requests_claimable', 'requests', ['team', 'due_at', 'target_due_at'], unique=False, postgresql_where=sa.text(f"assignee IS NULL AND status IN ({_ACTIONABLE})"))
    op.create_index('ix_requests_claimed_at', 'requests', ['claimed_at'], unique=False, postgresql_where=sa.text("assignee IS NOT NULL"))
    op.create_table('board_summary',
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('team', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('received_day', sa.DateTime(timezone=True), nullable=False),
    sa.Column('target_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('at_risk', sa.Boolean(), nullable=False),
    sa.Column('legal_risk', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('site', 'team', 'status', 'received_day', 'target_due_at', 'due_at', 'due_date', 'breached', 'at_risk', 'legal_risk')
    )
    # The board's counts, kept in step with `requests` in the same transaction as each change.
    op.execute(
        f"""
        CREATE FUNCTION roi_board_add(r requests, delta integer) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO board_summary AS b ({_KEY}, n)
            VALUES ({_key_of('r')}, delta)
            ON CONFLICT ({_KEY}) DO UPDATE SET n = b.n + EXCLUDED.n;
            IF delta < 0 THEN
                DELETE FROM board_summary
                WHERE ({_KEY}) = ({_key_of('r')}) AND n <= 0;
            END IF;
        END;
        $$;
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION roi_board_summary() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            was_open boolean := TG_OP <> 'INSERT' AND OLD.status NOT IN ({_TERMINAL});
            is_open boolean := TG_OP <> 'DELETE' AND NEW.status NOT IN ({_TERMINAL});
        BEGIN
            IF was_open AND is_open AND ROW({_key_of('OLD')}) = ROW({_key_of('NEW')}) THEN
                RETURN NULL;  -- a claim, a timestamp: nothing the board counts changed
            END IF;
            -- Touch the two summary rows in one fixed order, so concurrent moves cannot
            -- deadlock each other.
            IF was_open AND is_open AND ROW({_key_of('NEW')}) < ROW({_key_of('OLD')}) THEN
                PERFORM roi_board_add(NEW, 1);
                PERFORM roi_board_add(OLD, -1);
            ELSE
                IF was_open THEN PERFORM roi_board_add(OLD, -1); END IF;
                IF is_open THEN PERFORM roi_board_add(NEW, 1); END IF;
            END IF;
            RETURN NULL;
        END;
        $$;
        """
    )
    op.execute(
        # Not on claims (UPDATE of assignee/claimed_at only): the board counts none of that.
        "CREATE TRIGGER requests_board_summary AFTER INSERT OR DELETE OR UPDATE OF "
        "site, team, status, received_at, target_due_at, due_at, due_date, breached, at_risk, "
        "legal_risk ON requests FOR EACH ROW EXECUTE FUNCTION roi_board_summary()"
    )
    op.execute(
        """
        CREATE FUNCTION roi_board_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            TRUNCATE board_summary;
            RETURN NULL;
        END;
        $$;
        """
    )
    op.execute(
        "CREATE TRIGGER requests_board_truncate AFTER TRUNCATE ON requests "
        "FOR EACH STATEMENT EXECUTE FUNCTION roi_board_truncate()"
    )
    op.execute(
        f"INSERT INTO board_summary ({_KEY}, n) "
        f"SELECT {_key_of('r')}, count(*) FROM requests r WHERE r.status NOT IN ({_TERMINAL}) "
        f"GROUP BY {_key_of('r')}"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS requests_board_truncate ON requests")
    op.execute("DROP TRIGGER IF EXISTS requests_board_summary ON requests")
    op.execute("DROP FUNCTION IF EXISTS roi_board_truncate()")
    op.execute("DROP FUNCTION IF EXISTS roi_board_summary()")
    op.execute("DROP FUNCTION IF EXISTS roi_board_add(requests, integer)")
    op.drop_table('board_summary')
    op.drop_index('ix_requests_claimed_at', table_name='requests', postgresql_where=sa.text("assignee IS NOT NULL"))
    op.drop_index('ix_requests_claimable', table_name='requests', postgresql_where=sa.text(f"assignee IS NULL AND status IN ({_ACTIONABLE})"))
    op.drop_table('api_tokens')
    op.drop_index('ix_throttle_hits_bucket_at', table_name='throttle_hits')
    op.drop_table('throttle_hits')
    op.drop_index(op.f('ix_staff_sessions_user_id'), table_name='staff_sessions')
    op.drop_table('staff_sessions')
    op.drop_table('staff_users')
