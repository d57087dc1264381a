"""report indexes (issue 19): the compliance and turnaround reports read closed requests by site
and closing time, from the index alone

`ix_requests_site_closed_at` on (site, closed_at), partial on closed rows, carrying the columns
those reports count (status, the target and legal due instants, the original due date, the
extension, the receipt): store/reports.py asks for the sites and one range of closing instants
(the site's local months as UTC bounds), so the report is one index-only range scan whatever
the size of the table. Measured with bench/report_bench.py on 1,000,000 requests (2 loaded
CPUs): a parallel sequential scan before, p99 about 2 s for one month of all sites; with a
plain (site, closed_at) index, scattered heap reads, p99 2.2-2.6 s for one site over twelve
months. Partial: an open request has no entry, so the workflow's updates of open rows never
touch it.

Revision ID: 0017_report_indexes
Revises: 0016_inbound_documents
Create Date: 2026-12-01 15:00:00
"""

from alembic import op

revision = "0017_report_indexes"
down_revision = "0016_inbound_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_requests_site_closed_at ON requests (site, closed_at) "
        "INCLUDE (status, target_due_at, due_at, original_due_date, extended, received_at) "
        "WHERE closed_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_requests_site_closed_at")
