"""Benchmark: finding a request (store/search.py) among 1,000,000 requests, open and closed.

    .venv/bin/python bench/search_bench.py     # on ROI_DATABASE_URL's server, else embedded
    .venv/bin/python bench/search_bench.py --rows 200000 --n 300

Fills a throwaway database (dropped afterwards), migrated to head, with synthetic requests
made in SQL (INSERT ... SELECT generate_series: no real person): made-up first names and
surnames from syllables, surnames skewed so the commonest is ~1% of the rows (a "Smith"), 30%
of requests from an organisation (with its submission, for the organisation index), 90% with an
MRN, 80% closed. Then times, as the web app does it (its own code, the app's database role,
one transaction with the audit row and its commit), searches of each kind by a specialist of
every site and one of a single site, against a plain indexed lookup (`SELECT ... WHERE id =
:id`) on the same pool in the same run. Prints p50/p99/max per kind and the load average.
Each search's figure includes its audit row's INSERT and the commit (WAL flush); the audit
row alone is timed too. Target (issue 19): p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import md5
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql
from sqlalchemy import text

from app.roles import teams_of
from bench.common import load, pct, postgres_server, throwaway_database, timed
from store import search
from store.db import session_scope

TARGET_MS = 100.0

#: Syllables of made-up names (combinations, none a real person's).
_FIRST_A = ["Ava", "Bel", "Cor", "Dar", "Eli", "Fen", "Gil", "Hal", "Iri", "Jor", "Kal", "Lio"]
_FIRST_A += ["Mar", "Nel", "Ori", "Pel", "Quin", "Ros", "Sel", "Tam", "Ulo", "Vin", "Wyl", "Zed"]
_FIRST_B = ["a", "en", "ina", "o", "iel", "ette", "us", "ana"]
_LAST_A = ["Brand", "Cald", "Dorn", "Elm", "Farr", "Garr", "Holl", "Ivers", "Jarr", "Kest", "Lorr"]
_LAST_A += ["Marr", "Nort", "Osk", "Penn", "Quarr", "Ross", "Stam", "Thorn", "Ulv", "Varr", "Wess"]
_LAST_A += ["Yarr", "Zell", "Ashb", "Birk", "Crann", "Dell", "Eastw", "Fald", "Grey", "Hart"]
_LAST_B = ["ley", "wick", "ford", "ham", "ton", "ridge", "by", "stead", "well", "mere", "holt"]
_LAST_B += ["field", "more", "dale", "worth", "gate", "cott", "brook", "shaw", "wood", "combe"]
_LAST_B += ["hurst", "lock", "ing", "er", "son", "man", "ard", "ell", "low", "den", "bury"]
_ORG = ["Law Group", "Insurance Co", "Records Retrieval", "Legal Services", "Health Partners"]


#: Every made-up first name; every surname, in an arbitrary but fixed order (the first ones
#: are the commonest: the skew must not follow the alphabet).
FIRST = [a + b for a in _FIRST_A for b in _FIRST_B]
LAST = sorted({a + b for a in _LAST_A for b in _LAST_B}, key=lambda v: md5(v.encode()).digest())


def _array(values: list[str]) -> str:
    """A literal text[] (a constant of the statement: not read again for every row)."""
    return "(ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


SEED_SQL = f"""
INSERT INTO requests (
  id, workflow_id, tracking_number, kind, team, site, channel, language, status,
  delivery_method, received_at, target_due_at, due_at, original_due_date, due_date, extended,
  at_risk, legal_risk, breached, fee_cents, paid_cents, verified, patient_name, patient_dob,
  patient_mrn, requester_name, recipient_name, closed_at, updated_at, state_version)
SELECT
  lpad(to_hex(g), 26, '0'),
  'roi-bench-' || g,
  'ROI-' || substr(t, 1, 5) || '-' || substr(t, 6, 5),
  CASE WHEN team = 'roi' THEN 'access_own' WHEN team = 'billing' THEN 'billing'
       WHEN team = 'amendment' THEN 'amendment' ELSE 'deceased_notice' END,
  team, site, 'portal', 'en', status, 'email_link',
  received, received + interval '14 days', received + interval '30 days',
  (received + interval '30 days')::date, (received + interval '30 days')::date, false,
  false, false, closed_late, 0, 0, false,
  first || ' ' || last,
  date '1930-01-01' + (random() * 33000)::int,
  CASE WHEN random() < 0.9 THEN 'M' || lpad(g::text, 9, '0') END,
  requester, requester,
  CASE WHEN status IN ('completed', 'denied', 'cancelled')
       THEN received + (CASE WHEN closed_late THEN interval '33 days' ELSE interval '12 days' END)
  END,
  now(), 1
FROM (
  SELECT g, t, team, site, status, received, first, last,
         status = 'completed' AND random() < 0.03 AS closed_late,
         CASE WHEN org THEN org_last || ' ' || org_kind ELSE first || ' ' || last END AS requester
  FROM (
    SELECT g,
      (SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
                 ((((g * 1099511627791) % 1125899906842624) >> (5 * i)) % 32)::int + 1, 1),
               '' ORDER BY i)
       FROM generate_series(0, 9) i) AS t,
      (ARRAY['roi','roi','roi','roi','roi','roi','roi','roi','roi','roi','roi','roi','roi',
             'roi','roi','roi','roi','billing','amendment','data_integrity'])
        [1 + (random() * 19)::int] AS team,
      (ARRAY['arizona','florida','minnesota','wisconsin'])[1 + (random() * 3)::int] AS site,
      CASE WHEN random() < 0.8
           THEN (ARRAY['completed','completed','completed','denied','cancelled'])
                  [1 + (random() * 4)::int]
           ELSE (ARRAY['awaiting_verification','ready_to_release','deficient','awaiting_payment'])
                  [1 + (random() * 3)::int]
      END AS status,
      now() - random() * interval '730 days' AS received,
      {_array(FIRST)}[1 + (random() * {len(FIRST) - 1})::int] AS first,
      {_array(LAST)}[1 + floor({len(LAST)} * power(random(), 1.5))::int] AS last,
      random() < 0.3 AS org,
      {_array(LAST)}[1 + (random() * {len(LAST) - 1})::int] AS org_last,
      ({_array(_ORG)})[1 + (random() * {len(_ORG) - 1})::int] AS org_kind
    FROM generate_series(1, %(rows)s) g
  ) x
) y;

INSERT INTO intake_submissions (id, received_at, channel, source, payload, outcome, request_id)
SELECT id, received_at, 'portal', 'api',
       jsonb_build_object(
         'kind', kind, 'site', site,
         'patient', jsonb_build_object('name', patient_name, 'date_of_birth', patient_dob),
         'requester', jsonb_build_object('organization', requester_name,
                                         'relationship', 'third_party')),
       'accepted', id
FROM requests WHERE requester_name <> patient_name;
"""


def seed(owner_url: str, rows: int) -> dict[str, float]:
    """Fill `requests` (and the organisations' submissions) in SQL; times each step."""
    took: dict[str, float] = {}
    with psycopg.connect(owner_url, autocommit=True) as conn:
        # the board's per-row summary trigger and the search indexes would run a million
        # times: off while loading, the indexes rebuilt after (as a migration would)
        conn.execute("ALTER TABLE requests DISABLE TRIGGER USER")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'ix_%search_%' "
            "AND tablename IN ('requests', 'intake_submissions')"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        started = time.perf_counter()
        conn.execute(SEED_SQL.replace("%(rows)s", str(int(rows))))
        took["insert"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            conn.execute(definition)
        took["search indexes"] = time.perf_counter() - started
        conn.execute("ALTER TABLE requests ENABLE TRIGGER USER")
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE requests")
        conn.execute("VACUUM ANALYZE intake_submissions")
        took["vacuum analyze"] = time.perf_counter() - started
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="requests to make")
    parser.add_argument("--n", type=int, default=500, help="searches timed per kind")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (its name is printed)"
    )
    parser.add_argument("--reuse", metavar="NAME", help="time again on a kept database")
    args = parser.parse_args()

    with (
        postgres_server() as server,
        throwaway_database(server, "roi_search_bench", keep=args.keep, reuse=args.reuse) as (
            url,
            app_url,
        ),
    ):
        if not args.reuse:
            print(f"load average before seeding: {load()}")
            took = seed(url, args.rows)
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in took.items())
            print(f"made {args.rows:,} requests ({steps})")
        return run(app_url, args)


def run(url: str, args: argparse.Namespace) -> int:
    rng = random.Random(19)
    with session_scope(url) as session:
        total = session.execute(text("SELECT count(*) FROM requests")).scalar_one()
        sample = session.execute(
            text(
                "SELECT id, tracking_number, patient_name, patient_dob, patient_mrn, "
                "requester_name FROM requests TABLESAMPLE SYSTEM (1) REPEATABLE (19) LIMIT 5000"
            )
        ).all()
        surnames = session.execute(
            text(
                "SELECT split_part(patient_name, ' ', 2) s, count(*) n FROM requests "
                "GROUP BY 1 ORDER BY n DESC LIMIT 1"
            )
        ).one()
    ids = [r.id for r in sample]
    with_mrn = [r for r in sample if r.patient_mrn]
    organisations = [r for r in sample if r.requester_name != r.patient_name]
    print(f"{total:,} requests; the commonest surname is on {surnames.n:,} of them")

    every_site = ("bench-all", teams_of("specialist"), None)
    one_site = ("bench-az", teams_of("specialist"), frozenset({"arizona"}))

    def searching(
        make: Callable[[], tuple[str, str]], who: tuple[str, frozenset[str], frozenset[str] | None]
    ) -> Callable[[], object]:
        actor, teams, sites = who

        def go() -> object:
            typed, kind = make()
            query = search.parse_query(typed, kind)
            with session_scope(url) as session:
                found = search.search_requests(session, query, teams=teams, sites=sites)
                if found.total == 0 and query.fallback is not None:
                    query = query.fallback
                    found = search.search_requests(session, query, teams=teams, sites=sites)
                search.record_search(
                    session,
                    actor=actor,
                    kind=query.kind.value,
                    query_text=typed,
                    results=found.total,
                    page=1,
                    request_ids=[h.id for h in found.hits],
                    client=None,
                    at=datetime.now(UTC),
                )
            return found

        return go

    def baseline() -> object:
        with session_scope(url) as session:
            return session.execute(
                text("SELECT id, tracking_number, status FROM requests WHERE id = :id"),
                {"id": rng.choice(ids)},
            ).one()

    def audit_only() -> object:
        with session_scope(url) as session:
            search.record_search(
                session,
                actor="bench-audit",
                kind="mrn",
                query_text="M000000001",
                results=1,
                page=1,
                request_ids=[rng.choice(ids)],
                client=None,
                at=datetime.now(UTC),
            )
        return None

    def tracking() -> tuple[str, str]:
        number = rng.choice(sample).tracking_number
        return rng.choice([number, number.lower(), number.replace("-", "")]), "auto"

    def name_full() -> tuple[str, str]:
        first, last = rng.choice(sample).patient_name.split(" ")
        return f"{first[:3]} {last[:4]}", "auto"

    def surname() -> tuple[str, str]:
        return rng.choice(sample).patient_name.split(" ")[1], "auto"

    def commonest() -> tuple[str, str]:
        return str(surnames.s), "auto"

    def dob() -> tuple[str, str]:
        born = rng.choice(sample).patient_dob
        return rng.choice([born.isoformat(), born.strftime("%m/%d/%Y")]), "auto"

    def mrn() -> tuple[str, str]:
        return rng.choice(with_mrn).patient_mrn, "auto"

    def requester() -> tuple[str, str]:
        words = rng.choice(organisations).requester_name.split(" ")
        return f"{words[0][:4]} {words[1]}", "requester"

    n = args.n
    print(f"load average before timing: {load()}")
    plan: list[tuple[str, Callable[[], object], int, float | None]] = [
        ("baseline: SELECT ... WHERE id = :id", baseline, n, None),
        ("the audit row alone (INSERT, commit)", audit_only, n, None),
        ("tracking number (any case, dashes)", searching(tracking, every_site), n, TARGET_MS),
        ("patient: first + surname prefixes", searching(name_full, every_site), n, TARGET_MS),
        ("patient: surname only", searching(surname, every_site), n, TARGET_MS),
        ("patient: the commonest surname", searching(commonest, every_site), n // 5, TARGET_MS),
        ("date of birth (both formats)", searching(dob, every_site), n, TARGET_MS),
        ("MRN", searching(mrn, every_site), n, TARGET_MS),
        ("requester organisation", searching(requester, every_site), n, TARGET_MS),
        ("one site: surname only", searching(surname, one_site), n, TARGET_MS),
        ("one site: date of birth", searching(dob, one_site), n, TARGET_MS),
    ]
    results = [(label, timed(fn, count), target) for label, fn, count, target in plan]
    print(f"load average after timing: {load()}")
    print(f"\n{'measure':38} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  target")
    failed = False
    for label, values, target in results:
        p99 = pct(values, 0.99)
        verdict = ""
        if target is not None:
            ok = p99 <= target
            failed |= not ok
            verdict = f"p99 <= {target:g} ms: {'ok' if ok else 'MISSED'}"
        print(
            f"{label:38} {len(values):>5} {statistics.median(values):8.2f} {p99:8.2f} "
            f"{max(values):8.2f}  {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
