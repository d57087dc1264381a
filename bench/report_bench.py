"""Benchmark: the monthly SLA compliance report over 1,000,000 requests (issue 19: <= 2 s).

    .venv/bin/python bench/report_bench.py          # ROI_DATABASE_URL's server, else embedded
    .venv/bin/python bench/report_bench.py --rows 200000 --runs 10

Fills a throwaway database (dropped afterwards) with synthetic requests in one INSERT ...
SELECT over generate_series: three years of receipts at the four sites, each with the clocks
the workflow would give it in the site's time (14-day target, 30-day legal due date, one
extension for some late ones), most answered after a skewed number of days, a few cancelled,
the last weeks' still open. Then times, in the same run and on the same connection pool:
  * the baseline: a plain indexed lookup (one request by its tracking number);
  * the compliance report's query (store.reports.compliance) and the whole report as the page
    builds it (query, table, chart): all sites for one month, and one site for twelve months;
  * for reference, the turnaround, fees and breach-log queries of the same ranges.
Prints p50/p99/max of each, the plan's access path, and the load average before and after.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import text

from app.accounts import Account
from app.routes.reports import Filters, _compliance
from bench.common import load, pct, postgres_server, throwaway_database, timed
from domain.reports import Month
from store import reports
from store.db import engine_for, session_scope

TARGET_MS = 2000.0
#: Sites and months a report covers.
Scope = tuple[list[str], Month, Month]
SITES = ("arizona", "florida", "minnesota", "wisconsin")

FILL = """
WITH g AS (
    SELECT n,
           now() - (random() * interval '1095 days') AS received,
           random() AS r1, random() AS r2, random() AS r3
    FROM generate_series(1, %(rows)s) AS n
), s AS (
    SELECT g.*,
           (ARRAY['arizona','florida','minnesota','wisconsin'])[1 + n %% 4] AS site,
           -- days to answer: exponential, mean 9 days (about 21 %% past the 14-day target,
           -- 4 %% past 30 days)
           least(floor(-ln(1 - r2) * 9)::int, 90) AS took
    FROM g
), z AS (
    SELECT s.*,
           CASE site WHEN 'arizona' THEN 'America/Phoenix' WHEN 'florida' THEN 'America/New_York'
                ELSE 'America/Chicago' END AS zone,
           received + make_interval(days => took, hours => (r3 * 8)::int) AS answered_at
    FROM s
), d AS (
    SELECT z.*,
           (received AT TIME ZONE zone)::date AS day,
           answered_at < now() AS closed,
           took > 30 AND r1 < 0.7 AS extended
    FROM z
)
INSERT INTO requests (
    id, workflow_id, tracking_number, kind, team, site, channel, language, status,
    delivery_method, received_at, target_due_at, due_at, original_due_date, due_date, extended,
    at_risk, legal_risk, breached, fee_cents, paid_cents, verified, patient_name, patient_dob,
    requester_name, recipient_name, closed_at, updated_at, state_version)
SELECT
    lpad(to_hex(n), 26, '0'),
    'roi-bench-' || lpad(to_hex(n), 26, '0'),
    'B' || lpad(n::text, 14, '0'),
    CASE WHEN r1 < 0.05 THEN 'amendment' ELSE 'access_own' END,
    CASE WHEN r1 < 0.05 THEN 'amendment' ELSE 'roi' END,
    site, 'portal', 'en',
    CASE WHEN NOT closed THEN 'awaiting_verification'
         WHEN r3 < 0.05 THEN 'cancelled' WHEN r3 < 0.12 THEN 'denied' ELSE 'completed' END,
    'email_link',
    received,
    ((day + 15)::timestamp AT TIME ZONE zone) - interval '1 microsecond',
    ((day + 31 + CASE WHEN extended THEN 30 ELSE 0 END)::timestamp AT TIME ZONE zone)
        - interval '1 microsecond',
    day + 30,
    day + 30 + CASE WHEN extended THEN 30 ELSE 0 END,
    extended,
    took > 14, took > 26, took > 30 AND NOT extended,
    CASE WHEN r2 < 0.1 THEN 4500 ELSE 0 END,
    CASE WHEN r2 < 0.1 AND closed THEN 4500 ELSE 0 END,
    true, 'Synthetic Patient', DATE '1980-01-01', 'Synthetic Patient', 'Synthetic Patient',
    CASE WHEN closed THEN answered_at END,
    now(), 1
FROM d
"""


def fill(url: str, rows: int) -> float:
    """The synthetic requests (no real person), triggers off for the load; seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE requests DISABLE TRIGGER USER")  # the board's summary
        conn.execute(FILL, {"rows": rows})  # type: ignore[arg-type]  # psycopg's LiteralString
        conn.execute("ALTER TABLE requests ENABLE TRIGGER USER")
        conn.execute("VACUUM ANALYZE requests")
    return time.perf_counter() - started


def plan(url: str, sites: list[str], first: Month, last: Month) -> str:
    """The compliance query's access paths (EXPLAIN of the very statement the report runs)."""
    from sqlalchemy import event

    engine = engine_for(url)
    seen: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope(url) as session:
            reports.compliance(session, sites, first, last)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, params = next((s, p) for s, p in seen if "FROM requests" in s)
    with engine.connect() as conn:
        lines = conn.exec_driver_sql("EXPLAIN " + statement, params).scalars().all()  # type: ignore[arg-type]
    return "; ".join(ln.strip().lstrip("-> ") for ln in lines if "Scan" in ln)


def run(url: str, args: argparse.Namespace) -> int:
    supervisor = Account(id="bench-sup", username="sup", role="supervisor", sites=None)
    now = datetime.now(UTC)
    this = Month.of(now.date())
    last_full = this.minus(1)
    one_month = (list(SITES), last_full, last_full)
    one_site_year = (["minnesota"], last_full.minus(11), last_full)
    rng = random.Random(7)

    def baseline() -> object:
        number = f"B{rng.randrange(1, args.rows + 1):014d}"
        with session_scope(url) as session:
            return session.execute(
                text("SELECT id, status, due_at FROM requests WHERE tracking_number = :t"),
                {"t": number},
            ).first()

    def query(
        fn: Callable[..., object], scope: tuple[list[str], Month, Month]
    ) -> Callable[[], object]:
        def go() -> object:
            with session_scope(url) as session:
                return fn(session, *scope)

        return go

    def page(scope: Scope) -> Callable[[], object]:
        sites, first, last = scope
        f = Filters(site=sites[0] if len(sites) == 1 else None, first=first, last=last)

        def go() -> object:
            with session_scope(url) as session:
                return _compliance(session, supervisor, f, False)

        return go

    def breach_page(scope: Scope) -> Callable[[], object]:
        def go() -> object:
            with session_scope(url) as session:
                reports.breach_count(session, *scope, now)
                return reports.breach_log(session, *scope, now, limit=100)

        return go

    with session_scope(url) as session:
        figures = reports.compliance(session, *one_month)
    total = next(r for r in figures if r.site is None and r.month is None)
    print(
        f"{last_full}, all sites: {total.answered:,} answered, {total.target_share} % within "
        f"the target, {total.legal_share} % within the legal due date, {total.extended:,} "
        "extended"
    )
    print("plan, all sites one month:", plan(url, *one_month))
    print("plan, one site twelve months:", plan(url, *one_site_year))
    print("load average before:", load())
    n = args.runs
    c, t, turnaround = reports.compliance, TARGET_MS, reports.turnaround
    few = functools.partial(timed, n=n, warmup=2)  # a report takes up to seconds: 2 warm-ups
    results: list[tuple[str, list[float], float | None]] = [
        ("baseline: indexed lookup by tracking no.", timed(baseline, n * 10, warmup=2), None),
        ("compliance SQL, all sites, 1 month", few(query(c, one_month)), t),
        ("compliance page, all sites, 1 month", few(page(one_month)), t),
        ("compliance SQL, 1 site, 12 months", few(query(c, one_site_year)), t),
        ("compliance page, 1 site, 12 months", few(page(one_site_year)), t),
        ("turnaround SQL, all sites, 1 month", few(query(turnaround, one_month)), None),
        ("fees SQL, 1 site, 12 months", few(query(reports.fees, one_site_year)), None),
        ("breach log page, all sites, 1 month", few(breach_page(one_month)), None),
    ]  # fmt: skip
    print("load average after: ", load())
    print(f"\n{'measure':42} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}  target")
    failed = False
    for label, values, target in results:
        p99 = pct(values, 0.99)
        verdict = ""
        if target is not None:
            ok = p99 <= target
            failed |= not ok
            verdict = f"p99 <= {target:g} ms: {'ok' if ok else 'MISSED'}"
        print(
            f"{label:42} {len(values):>5} {statistics.median(values):9.2f} {p99:9.2f} "
            f"{max(values):9.2f}  {verdict}"
        )
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="requests to fill")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each report")
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = parser.parse_args()

    with (
        postgres_server() as server,
        throwaway_database(server, "roi_bench", keep=args.keep) as (
            url,
            _,
        ),
    ):
        took = fill(url, args.rows)
        print(f"filled {args.rows:,} requests in {took:.1f} s")
        return run(url, args)


if __name__ == "__main__":
    raise SystemExit(main())
