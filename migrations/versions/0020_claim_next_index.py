"""claim-next index (issue 20): unclaimed actionable work in due order per (team, site)

`ix_requests_claimable_site` on (team, site, due_at, target_due_at), partial on unclaimed rows in
an actionable stage (the claim's own predicate, like `ix_requests_claimable` on (team, due_at,
target_due_at), which every-site accounts keep using). store/queue.py's claim-next for a
site-restricted account reads the head of each (team, site) pair it works with `LIMIT 1 FOR
UPDATE SKIP LOCKED`, so every probe starts at its first entry. Before, its per-team probe walked
the team's rows of every site in due order, visiting each one's heap row to test its site, and
went further with every claim made: on bench/queue_bench.py's 100,000 open requests, after
1,000 one-site claims the probe read 2,500 buffers in 0.9 ms (a few buffers in 0.015 ms now);
one-site claim-next p50 1.37 -> 1.01 ms end to end (load 2.5-3.1 on 2 CPUs), the rest being
the row's write, its audit row and the COMMIT's WAL flush.

Revision ID: 0020_claim_next_index
Revises: 0019_portal_esign
Create Date: 2026-12-01 17:30:00
"""

from alembic import op

revision = "0020_claim_next_index"
down_revision = "0019_portal_esign"
branch_labels = None
depends_on = None

_ACTIONABLE = "'received', 'awaiting_verification', 'ready_to_release', 'under_review'"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_requests_claimable_site ON requests (team, site, due_at, target_due_at) "
        f"WHERE assignee IS NULL AND status IN ({_ACTIONABLE})"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_requests_claimable_site")
