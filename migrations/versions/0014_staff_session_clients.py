"""staff sessions: a short non-secret id and a client summary (issue 14, own sessions)

Each session gets a number (`id`, an identity column: the label people and admins see and end
it by, never the cookie's token or its hash), the opaque label of the client address it was
opened from (as in security_events) and a summary of its browser and operating system from
the User-Agent (a fixed vocabulary, e.g. "Chrome 131 on Linux"; the raw header is not kept).

Revision ID: 0014_staff_session_clients
Revises: 0013_accounting_suspensions
Create Date: 2026-12-01 12:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0014_staff_session_clients"
down_revision = "0013_accounting_suspensions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff_sessions", sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False))
    op.create_unique_constraint("uq_staff_sessions_id", "staff_sessions", ["id"])
    op.add_column("staff_sessions", sa.Column("client", sa.String(length=64), nullable=True))
    op.add_column(
        "staff_sessions", sa.Column("client_summary", sa.String(length=64), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("staff_sessions", "client_summary")
    op.drop_column("staff_sessions", "client")
    op.drop_constraint("uq_staff_sessions_id", "staff_sessions", type_="unique")
    op.drop_column("staff_sessions", "id")
