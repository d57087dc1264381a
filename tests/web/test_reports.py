"""Issue 19, reports out: every figure checked against a fixture a person counted by hand.

The fixture (below, in site time) is a small set of requests of 2021 with known dates, fees,
audit rows and disclosures, in a database of this module's own (no workflow runs: rows are
written as the workflows project them). Each test states the count it expects and why.

Arizona (Phoenix, UTC-7 all year), answered in March 2021:
  A1 received Feb 20, completed Mar 3   (11 days)  target Mar 6   in target, in time
  A2 received Feb 25, completed Mar 10  (13 days)  target Mar 11  in target, in time
  A3 received Mar 1,  denied Mar 12     (11 days)  target Mar 15  in target, in time   fee $45 paid
  A4 received Feb 1,  completed Mar 25  (52 days)  extended Mar 3 -> Apr 2: in time, not in target
  A6 received Mar 20, completed Mar 31 23:30 local (= Apr 1 06:30 UTC: March at the site)
  A5 received Mar 2,  cancelled Mar 5 (never answered)                            fee $45 unpaid
  => 5 answered, 4 of 5 in target = 80.0 %, 5 in time = 100.0 %, 4 by the original date,
     1 extension, 1 cancelled.
Arizona, April 2021:
  A7 received Mar 1, completed Apr 5 (35 days; due Mar 31: 5 days late, a breach)
  A8 received Mar 25, completed Apr 1 00:30 local (7 days)
  => 2 answered, 1 in target = 50.0 %, 1 in time = 50.0 %, 1 late.
Florida, March 2021: F1 received Mar 1, completed Mar 20 (19 days, target missed, in time);
  F2 an amendment (no target, 60 days) received Feb 1, completed Mar 10.
Minnesota, May 2021: M1 received Apr 1, extended May 1 -> May 20, answered May 1 at 22:00.
Breaches (legal due date Jan-Apr 2021): W1 Wisconsin, due Feb 1, still open waiting for
  payment; F4 Florida, due Feb 3, cancelled Feb 10 (7 days late); A7; A9 Arizona, due Apr 14,
  open waiting for payment. F3 Florida closed 23:30 on its due date: in time, not a breach.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from ulid import ULID

from app.config import WebSettings
from app.main import create_app
from config.settings import Settings
from domain.calendar import end_of_local_day, local_date
from domain.ids import workflow_id_for
from domain.sites import site_profile
from domain.types import Site
from store.db import session_scope
from store.models import Disclosure, OutboundItem, RecordRequest, RequestEvent, SecurityEvent
from tests.infra import migrated_database
from tests.web.helpers import PASSWORD, add_staff, csrf, sign_in, tracking

ZONES = {s.value: site_profile(s).zone for s in Site}

#: label -> (username, role, sites)
ACCOUNTS = {
    "supervisor": ("rep.sup", "supervisor", "all"),
    "supervisor_az": ("rep.sup.az", "supervisor", ["arizona"]),
    "privacy": ("rep.privacy", "privacy_officer", "all"),
    "specialist": ("rep.spec", "specialist", "all"),
    "admin": ("rep.admin", "admin", "all"),
    "x": ("rep.x", "specialist", ["arizona"]),
    "y": ("rep.y", "specialist", ["wisconsin"]),
    "z": ("rep.z", "specialist", ["arizona"]),
}


def at(site: str, y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A moment in the site's local time."""
    return datetime(y, m, d, hh, mm, tzinfo=ZONES[site])


def add_request(
    db: str,
    site: str,
    received: datetime,
    *,
    status: str,
    closed: datetime | None = None,
    kind: str = "access_own",
    legal_days: int = 30,
    target: bool = True,
    extended_to: date | None = None,
    fee: int = 0,
    paid: int = 0,
    breached: bool = False,
) -> str:
    """A read-model row with the clocks the workflow would give it (dates in site time)."""
    s = Site(site)
    day = local_date(s, received)
    original = day + timedelta(days=legal_days)
    due = extended_to or original
    rid = str(ULID()).lower()
    row = RecordRequest(
        id=rid,
        workflow_id=workflow_id_for(rid),
        tracking_number=tracking(),
        kind=kind,
        team="amendment" if kind == "amendment" else "roi",
        site=site,
        channel="portal",
        language="en",
        status=status,
        delivery_method="email_link",
        received_at=received,
        target_due_at=end_of_local_day(s, day + timedelta(days=14)) if target else None,
        due_at=end_of_local_day(s, due),
        original_due_date=original,
        due_date=due,
        extended=extended_to is not None,
        breached=breached,
        fee_cents=fee,
        paid_cents=paid,
        patient_name="Synthetic Testpatient",
        patient_dob=date(1984, 3, 9),
        requester_name="Synthetic Testpatient",
        recipient_name="Synthetic Testpatient",
        summary={},
        closed_at=closed,
        state_version=1,
    )
    with session_scope(db) as session:
        session.add(row)
    return rid


def add_event(
    db: str,
    rid: str,
    when: datetime,
    actor: str,
    action: str,
    to_status: str | None = None,
    from_status: str | None = None,
    **detail: Any,
) -> None:
    with session_scope(db) as session:
        session.add(
            RequestEvent(
                event_key=f"{rid}-{action}-{ULID()}",
                request_id=rid,
                at=when,
                actor=actor,
                action=action,
                from_status=from_status or (to_status and "received"),
                to_status=to_status,
                detail=detail or None,
            )
        )


def add_disclosure(db: str, rid: str, when: datetime, category: str) -> None:
    with session_scope(db) as session:
        session.add(
            Disclosure(
                disclosure_key=f"rep-{ULID()}",
                request_id=rid,
                disclosed_at=when,
                disclosed_by="engine",
                recipient_name="Synthetic Recipient",
                description="Visit notes",
                purpose="At the request of the individual",
                method="email_link",
                category=category,
            )
        )


class World:
    def __init__(self, db: str, ids: dict[str, str], outbox: Path) -> None:
        self.db = db
        self.ids = ids
        self.outbox = outbox
        self.r: dict[str, str] = {}


@pytest.fixture(scope="module")
def world(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with migrated_database(server_url, "roi_reports") as db:
        ids = {
            k: add_staff(db, u, PASSWORD, role, sites) for k, (u, role, sites) in ACCOUNTS.items()
        }
        w = World(db, ids, tmp_path_factory.mktemp("reports-outbox"))
        x, y, z = ids["x"], ids["y"], ids["z"]
        az, fl, wi = "arizona", "florida", "wisconsin"
        r = w.r
        r["A1"] = add_request(
            db, az, at(az, 2021, 2, 20), status="completed", closed=at(az, 2021, 3, 3)
        )
        r["A2"] = add_request(
            db, az, at(az, 2021, 2, 25), status="completed", closed=at(az, 2021, 3, 10)
        )
        r["A3"] = add_request(
            db,
            az,
            at(az, 2021, 3, 1),
            status="denied",
            closed=at(az, 2021, 3, 12),
            fee=4500,
            paid=4500,
        )
        r["A4"] = add_request(
            db, az, at(az, 2021, 2, 1), status="completed", closed=at(az, 2021, 3, 25),
            extended_to=date(2021, 4, 2),
        )  # fmt: skip
        r["A5"] = add_request(
            db, az, at(az, 2021, 3, 2), status="cancelled", closed=at(az, 2021, 3, 5), fee=4500
        )
        r["A6"] = add_request(
            db, az, at(az, 2021, 3, 20), status="completed", closed=at(az, 2021, 3, 31, 23, 30),
            fee=2500, paid=1000,
        )  # fmt: skip
        r["A7"] = add_request(
            db, az, at(az, 2021, 3, 1), status="completed", closed=at(az, 2021, 4, 5)
        )
        r["A8"] = add_request(
            db, az, at(az, 2021, 3, 25), status="completed", closed=at(az, 2021, 4, 1, 0, 30)
        )
        r["A9"] = add_request(db, az, at(az, 2021, 3, 15), status="awaiting_payment", fee=3000)
        r["F1"] = add_request(
            db, fl, at(fl, 2021, 3, 1), status="completed", closed=at(fl, 2021, 3, 20)
        )
        r["F2"] = add_request(
            db, fl, at(fl, 2021, 2, 1), status="completed", closed=at(fl, 2021, 3, 10),
            kind="amendment", legal_days=60, target=False,
        )  # fmt: skip
        r["F3"] = add_request(
            db, fl, at(fl, 2021, 1, 5), status="denied", closed=at(fl, 2021, 2, 4, 23, 30)
        )
        r["F4"] = add_request(
            db, fl, at(fl, 2021, 1, 4), status="cancelled", closed=at(fl, 2021, 2, 10)
        )
        r["W1"] = add_request(
            db, wi, at(wi, 2021, 1, 2), status="awaiting_payment", breached=True, fee=4500
        )
        # M1: extended, yet answered on its original due date at 22:00 in Chicago (03:00 UTC
        # the next day): within the original date all the same.
        mn = "minnesota"
        r["M1"] = add_request(
            db, mn, at(mn, 2021, 4, 1), status="completed", closed=at(mn, 2021, 5, 1, 22),
            extended_to=date(2021, 5, 20),
        )  # fmt: skip
        # A7's trail: claimed by X, verified, release held for a quality check, late completion.
        add_event(
            db, r["A7"], at(az, 2021, 3, 1), "system", "request.received", "awaiting_verification"
        )
        add_event(db, r["A7"], at(az, 2021, 3, 3), x, "queue.claimed", how="next")
        add_event(db, r["A7"], at(az, 2021, 3, 4), x, "identity.verified", "ready_to_release")
        add_event(
            db, r["A7"], at(az, 2021, 3, 5), "system", "release.held", "ready_to_release",
            codes=["quality_check_required"],
        )  # fmt: skip
        add_event(db, r["A7"], at(az, 2021, 3, 6), z, "request.viewed")  # a read: not work
        add_event(
            db, r["A7"], at(az, 2021, 4, 5), x, "request.completed", "completed", "fulfilling"
        )
        # A1 and A2 answered by Z (A2 claimed first); W1 verified by Y, who then let it go.
        add_event(
            db, r["A1"], at(az, 2021, 3, 3), z, "request.completed", "completed", "fulfilling"
        )
        add_event(db, r["A2"], at(az, 2021, 3, 9), z, "queue.claimed", how="picked")
        add_event(
            db, r["A2"], at(az, 2021, 3, 10), z, "request.completed", "completed", "fulfilling"
        )
        add_event(
            db, r["W1"], at(wi, 2021, 1, 2), "system", "request.received", "awaiting_verification"
        )
        add_event(db, r["W1"], at(wi, 2021, 1, 4), y, "queue.claimed", how="next")
        add_event(db, r["W1"], at(wi, 2021, 1, 5), y, "identity.verified", "awaiting_payment")
        add_event(db, r["W1"], at(wi, 2021, 1, 5, 11), y, "queue.released")
        add_event(
            db, r["A9"], at(az, 2021, 3, 15), "system", "request.received", "awaiting_payment"
        )
        # Disclosures of March 2021 (A6's at 23:30 on Mar 31 in Phoenix: March there).
        add_disclosure(db, r["A3"], at(az, 2021, 3, 12), "patient_access")
        add_disclosure(db, r["A6"], at(az, 2021, 3, 31, 23, 30), "authorization")
        add_disclosure(db, r["F1"], at(fl, 2021, 3, 20), "court_order")
        add_disclosure(
            db, "norequest" + "0" * 17, datetime(2021, 3, 5, 12, tzinfo=UTC), "public_health"
        )
        yield w


@pytest.fixture(scope="module")
def app(world: World) -> FastAPI:
    settings = Settings(outbox_dir=world.outbox)
    return create_app(
        settings,
        database_url=world.db,
        temporal_client=None,
        web=WebSettings(cookie_secure=True, login_address_max_failures=10_000),
    )


@pytest.fixture(scope="module")
async def as_() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients: dict[str, httpx.AsyncClient] = {}
    yield clients
    for c in clients.values():
        await c.aclose()


async def signed(
    app: FastAPI, clients: dict[str, httpx.AsyncClient], who: str
) -> httpx.AsyncClient:
    if who not in clients:
        clients[who] = await sign_in(app, ACCOUNTS[who][0])
    return clients[who]


def cells(page: str) -> list[list[str]]:
    """The report table's rows as the page shows them (text of each cell)."""
    body = re.search(r'<table[^>]*id="report-table".*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, "no report table"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(content: bytes) -> tuple[list[str], list[list[Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [str(h) for h in values[0]], values[1:]


def events(db: str, action: str) -> list[SecurityEvent]:
    with session_scope(db) as session:
        found = list(
            session.execute(
                select(SecurityEvent)
                .where(SecurityEvent.action == action)
                .order_by(SecurityEvent.id)
            ).scalars()
        )
        session.expunge_all()
        return found


# ---- who may see them -------------------------------------------------------------------------


async def test_only_supervisors_and_the_privacy_officer(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    from tests.web.helpers import client

    anonymous = client(app)
    for path in ("/reports", "/reports/compliance", "/reports/breaches.csv", "/reports/fees.xlsx"):
        assert (await anonymous.get(path)).status_code == 401, path
    await anonymous.aclose()
    for who in ("specialist", "admin"):
        c = await signed(app, as_, who)
        for path in ("/reports", "/reports/compliance", "/reports/breaches.csv"):
            assert (await c.get(path)).status_code == 403, (who, path)
        assert ">Reports</a>" not in (await c.get("/account")).text
    refused = [
        e for e in events(world.db, "access.forbidden") if e.actor == world.ids["specialist"]
    ]
    assert len(refused) == 3 and refused[0].detail["route"] == "/reports"
    for who in ("supervisor", "privacy"):
        c = await signed(app, as_, who)
        index = await c.get("/reports")
        assert index.status_code == 200 and 'href="/reports"' in index.text
        for name in ("compliance", "turnaround", "breaches", "specialists", "fees", "disclosures"):
            assert f'href="/reports/{name}"' in index.text
            assert (await c.get(f"/reports/{name}?from=2021-03&to=2021-03")).status_code == 200
    sup = await signed(app, as_, "supervisor")
    assert (await sup.get("/reports/nonsense")).status_code == 404
    assert (await sup.get("/reports/compliance?site=atlantis")).status_code == 404


async def test_a_site_restricted_supervisor_sees_only_their_site(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "supervisor_az")
    page = await c.get("/reports/compliance?from=2021-03&to=2021-03")
    rows = cells(page.text)
    assert [r[1] for r in rows] == ["Arizona", "All sites"]  # the month's row, then the total
    assert "Florida" not in page.text
    refused = await c.get("/reports/compliance?site=florida&from=2021-03&to=2021-03")
    assert refused.status_code == 403
    assert (await c.get("/reports/breaches.csv?site=florida")).status_code == 403
    breaches = csv_rows((await c.get("/reports/breaches.csv?from=2021-01&to=2021-04")).text)
    assert [b["Site"] for b in breaches] == ["Arizona", "Arizona"]  # not W1 nor F4


# ---- compliance -------------------------------------------------------------------------------


async def test_compliance_by_site_and_month(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "supervisor")
    page = await c.get("/reports/compliance?site=arizona&from=2021-03&to=2021-04")
    assert page.status_code == 200
    rows = cells(page.text)
    header = [
        "Month", "Site", "Answered", "With a 14-day target", "Within target", "Within target (%)",
        "Within legal due date", "Within legal due date (%)", "Within original due date",
        "Extensions", "Answered late (breach)", "Cancelled or expired",
    ]  # fmt: skip
    assert rows == [
        ["2021-03", "Arizona", "5", "5", "4", "80.0 %", "5", "100.0 %", "4", "1", "0", "1"],
        ["2021-04", "Arizona", "2", "2", "1", "50.0 %", "1", "50.0 %", "1", "0", "1", "0"],
        ["All months", "All sites", "7", "7", "5", "71.4 %", "6", "85.7 %", "5", "1", "1", "1"],
    ]
    # The chart says the same: bars with their figures, an accessible name and description.
    chart = re.search(r'<svg[^>]*id="chart-compliance".*?</svg>', page.text, re.S).group(0)  # type: ignore[union-attr]
    assert '<title id="chart-compliance-title">' in chart and "<desc" in chart
    assert "Mar 2021 · Within 14-day target: 80.0 %" in chart
    assert "Apr 2021 · Within legal due date: 50.0 %" in chart

    # All sites, March: Florida's two answers (one with no target: an amendment), and the sum.
    rows = cells((await c.get("/reports/compliance?from=2021-03&to=2021-03")).text)
    assert rows == [
        ["2021-03", "Arizona", "5", "5", "4", "80.0 %", "5", "100.0 %", "4", "1", "0", "1"],
        ["2021-03", "Florida", "2", "1", "0", "0.0 %", "2", "100.0 %", "2", "0", "0", "0"],
        ["2021-03", "All sites", "7", "6", "4", "66.7 %", "7", "100.0 %", "6", "1", "0", "1"],
        ["All months", "All sites", "7", "6", "4", "66.7 %", "7", "100.0 %", "6", "1", "0", "1"],
    ]
    # Minnesota, May: M1 was extended but answered late on its original due date, site time.
    rows = cells((await c.get("/reports/compliance?site=minnesota&from=2021-05&to=2021-05")).text)
    assert rows[0] == [
        "2021-05",
        "Minnesota",
        "1",
        "1",
        "0",
        "0.0 %",
        "1",
        "100.0 %",
        "1",
        "1",
        "0",
        "0",
    ]
    # A month with nothing answered shows no share (0 of 0 is not 100 %).
    empty = cells((await c.get("/reports/compliance?site=arizona&from=2021-06&to=2021-06")).text)
    assert empty == [["All months", "All sites", "0", "0", "0", "—", "0", "—", "0", "0", "0", "0"]]

    # CSV and XLSX: the same numbers, typed in the workbook.
    got = await c.get("/reports/compliance.csv?site=arizona&from=2021-03&to=2021-04")
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    listed = csv_rows(got.text)
    assert list(listed[0]) == header
    assert [(r["Month"], r["Within target (%)"], r["Within legal due date"]) for r in listed] == [
        ("2021-03", "80.0", "5"),
        ("2021-04", "50.0", "1"),
        ("All months", "71.4", "6"),
    ]
    book = await c.get("/reports/compliance.xlsx?site=arizona&from=2021-03&to=2021-04")
    assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
    head, values = xlsx_rows(book.content)
    assert head == header
    assert values == [
        ["2021-03", "Arizona", 5, 5, 4, 80.0, 5, 100.0, 4, 1, 0, 1],
        ["2021-04", "Arizona", 2, 2, 1, 50.0, 1, 50.0, 1, 0, 1, 0],
        ["All months", "All sites", 7, 7, 5, 71.4, 6, 85.7, 5, 1, 1, 1],
    ]
    assert all(isinstance(v, int) for v in values[0][2:5])


# ---- turnaround -------------------------------------------------------------------------------


async def test_turnaround_distribution(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "privacy")
    # Arizona's answers of March-April in days: 7, 11, 11, 11, 13, 35, 52 (A5 was cancelled).
    rows = cells((await c.get("/reports/turnaround?site=arizona&from=2021-03&to=2021-04")).text)
    assert rows == [
        ["Arizona", "7", "1", "4", "0", "2", "0", "11", "52", "52"],
        ["All sites", "7", "1", "4", "0", "2", "0", "11", "52", "52"],
    ]
    head, values = xlsx_rows(
        (await c.get("/reports/turnaround.xlsx?site=arizona&from=2021-03&to=2021-04")).content
    )
    assert head[:4] == ["Site", "Answered", "0-7 days", "8-14 days"]
    assert values[0] == ["Arizona", 7, 1, 4, 0, 2, 0, 11, 52, 52]
    # March across the sites: Florida adds 19 days (F1) and 37 (F2, Feb 1 to Mar 10).
    rows = cells((await c.get("/reports/turnaround?from=2021-03&to=2021-03")).text)
    assert rows[-1] == ["All sites", "7", "0", "4", "1", "2", "0", "13", "52", "52"]


# ---- breach log -------------------------------------------------------------------------------


async def test_breach_log_lists_every_breach_with_cause_and_holder(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "supervisor")
    page = await c.get("/reports/breaches?from=2021-01&to=2021-04")
    assert page.status_code == 200
    assert re.search(r'id="report-total">4 breaches', page.text)
    rows = cells(page.text)
    r = world.r
    with session_scope(world.db) as session:
        numbers = {k: session.get(RecordRequest, v).tracking_number for k, v in r.items()}  # type: ignore[union-attr]
    today_chicago = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")).date()
    today_phoenix = datetime.now(UTC).astimezone(ZoneInfo("America/Phoenix")).date()
    assert [row[0] for row in rows] == [numbers["W1"], numbers["F4"], numbers["A7"], numbers["A9"]]
    w1, f4, a7, a9 = rows
    # W1: open, waiting for the requester's payment; nobody held the claim (Y let it go), so
    # the holder is the last to act on it.
    assert w1[1:9] == [
        "Wisconsin", "access own", "2021-01-02", "2021-02-01", "no", "—",
        "open (awaiting_payment)", f"{(today_chicago - date(2021, 2, 1)).days:,}",
    ]  # fmt: skip
    assert w1[9:] == [
        "awaiting_payment", "waiting for the requester's payment", "requester", "rep.y",
        "last acted",
    ]  # fmt: skip
    # F4: cancelled 7 days after its due date; no trail: received, nobody held it.
    assert f4[1:9] == [
        "Florida",
        "access own",
        "2021-01-04",
        "2021-02-03",
        "no",
        "2021-02-10",
        "cancelled",
        "7",
    ]
    assert f4[9:] == ["received", "received, not yet triaged", "hospital", "—", "nobody"]
    # A7: completed 5 days late; at the due date its release was held for a quality check
    # while X held the claim.
    assert a7[5:] == [
        "no", "2021-04-05", "completed", "5", "ready_to_release",
        "release held: quality check required", "hospital", "rep.x", "claimed",
    ]  # fmt: skip
    assert a9[8] == f"{(today_phoenix - date(2021, 4, 14)).days:,}" and a9[10] == (
        "waiting for the requester's payment"
    )
    assert f'href="/requests/{r["A7"]}"' in page.text  # a supervisor opens the request
    # F3 closed at 23:30 on its due date: in time, not listed; A4 was extended in time.
    assert numbers["F3"] not in page.text and numbers["A4"] not in page.text
    chart = re.search(r'<svg[^>]*id="chart-breaches".*?</svg>', page.text, re.S).group(0)  # type: ignore[union-attr]
    assert "Feb 2021 · Still open: 1" in chart and "Feb 2021 · Closed late: 1" in chart
    assert "Mar 2021 · Closed late: 1" in chart and "Apr 2021 · Still open: 1" in chart

    listed = csv_rows((await c.get("/reports/breaches.csv?from=2021-01&to=2021-04")).text)
    assert [(b["Tracking number"], b["Days late"], b["Held by"]) for b in listed[1:3]] == [
        (numbers["F4"], "7", ""),
        (numbers["A7"], "5", "rep.x"),
    ]
    head, values = xlsx_rows(
        (await c.get("/reports/breaches.xlsx?from=2021-01&to=2021-04")).content
    )
    assert head[3:5] == ["Received", "Legal due date"]
    assert values[2][0] == numbers["A7"] and values[2][4] == datetime(2021, 3, 31)
    assert values[2][6] == datetime(2021, 4, 5) and values[2][8] == 5  # dates and days, typed
    # The privacy officer sees the same log, linked to each request's audit trail.
    officer = await signed(app, as_, "privacy")
    page = await officer.get("/reports/breaches?from=2021-01&to=2021-04")
    assert f'href="/requests/{r["A7"]}/audit"' in page.text


# ---- work per specialist ----------------------------------------------------------------------


async def test_work_per_specialist(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "supervisor")
    # Arizona, March-April: Z answered A1 and A2 (claimed A2 first; a view of A7 is no work);
    # X claimed A7, verified it and completed it late. Y worked in Wisconsin only.
    rows = cells((await c.get("/reports/specialists?site=arizona&from=2021-03&to=2021-04")).text)
    assert rows == [
        ["rep.z", "1", "2", "2", "2", "0"],
        ["rep.x", "1", "1", "2", "1", "1"],
        ["All staff", "2", "—", "4", "3", "1"],
    ]
    rows = cells((await c.get("/reports/specialists?from=2021-01&to=2021-04")).text)
    assert ["rep.y", "1", "1", "1", "0", "0"] in rows
    listed = csv_rows(
        (await c.get("/reports/specialists.csv?site=arizona&from=2021-03&to=2021-04")).text
    )
    assert listed[-1]["Requests moved"] == "" and listed[0]["Staff member"] == "rep.z"


# ---- fees -------------------------------------------------------------------------------------


async def test_fees_billed_and_paid(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "supervisor")
    # Received in Arizona in March: A3 ($45 paid), A5 ($45, cancelled unpaid), A6 ($25, $10
    # paid, closed), A7, A8 (no fee), A9 ($30, open, unpaid).
    rows = cells((await c.get("/reports/fees?site=arizona&from=2021-03&to=2021-03")).text)
    assert rows[0] == [
        "2021-03", "Arizona", "6", "4", "1", "$145.00", "$55.00", "$30.00", "$60.00"
    ]  # fmt: skip
    listed = csv_rows((await c.get("/reports/fees.csv?site=arizona&from=2021-03&to=2021-03")).text)
    assert [listed[0][k] for k in ("Billed ($)", "Paid ($)", "Outstanding, open ($)")] == [
        "145.00", "55.00", "30.00"
    ]  # fmt: skip
    _, values = xlsx_rows(
        (await c.get("/reports/fees.xlsx?site=arizona&from=2021-03&to=2021-03")).content
    )
    assert values[0][5:] == [145, 55, 30, 60]


# ---- disclosures by purpose -------------------------------------------------------------------


async def test_disclosures_by_purpose(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "privacy")
    rows = cells((await c.get("/reports/disclosures?from=2021-03&to=2021-03")).text)
    assert rows == [
        ["2021-03", "Arizona", "authorization", "no", "1"],
        ["2021-03", "Arizona", "patient access", "no", "1"],
        ["2021-03", "Florida", "court order", "yes", "1"],
        ["2021-03", "No request (recorded by hand)", "public health", "yes", "1"],
        ["All months", "All sites", "authorization", "no", "1"],
        ["All months", "All sites", "court order", "yes", "1"],
        ["All months", "All sites", "patient access", "no", "1"],
        ["All months", "All sites", "public health", "yes", "1"],
        ["All months", "All sites", "All categories", "—", "4"],
    ]
    # An Arizona supervisor: Arizona's two only (no other site, none recorded for no request).
    az = await signed(app, as_, "supervisor_az")
    rows = cells((await az.get("/reports/disclosures?from=2021-03&to=2021-03")).text)
    assert rows[-1] == ["All months", "All sites", "All categories", "—", "2"]
    assert {r[1] for r in rows} == {"Arizona", "All sites"}


# ---- every view and download is recorded -----------------------------------------------------


async def test_views_and_downloads_are_security_events(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "privacy")
    before = len(events(world.db, "report.viewed")), len(events(world.db, "report.exported"))
    await c.get("/reports/fees?site=florida&from=2021-02&to=2021-05")
    await c.get("/reports/fees.xlsx?site=florida&from=2021-02&to=2021-05")
    await c.get("/reports/breaches.csv?from=2021-01&to=2021-04")
    viewed, exported = events(world.db, "report.viewed"), events(world.db, "report.exported")
    assert (len(viewed), len(exported)) == (before[0] + 1, before[1] + 2)
    assert viewed[-1].actor == world.ids["privacy"]
    assert viewed[-1].detail == {
        "report": "fees", "format": "html", "site": "florida", "from": "2021-02", "to": "2021-05",
        "rows": viewed[-1].detail["rows"],
    }  # fmt: skip
    assert [e.detail["format"] for e in exported[-2:]] == ["xlsx", "csv"]
    assert exported[-1].detail["report"] == "breaches" and exported[-1].detail["rows"] == 4
    assert exported[-1].detail["site"] == "all" and exported[-1].client


async def test_unreadable_filters_fall_back_plainly(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    c = await signed(app, as_, "supervisor")
    page = await c.get("/reports/compliance?from=March&to=2021-04")
    assert page.status_code == 200 and "is written YYYY-MM" in page.text
    # A reversed range is read the right way round; more than 60 months is cut to 60.
    rows = cells((await c.get("/reports/compliance?site=arizona&from=2021-04&to=2021-03")).text)
    assert [r[0] for r in rows] == ["2021-03", "2021-04", "All months"]
    page = await c.get("/reports/compliance?from=2001-01&to=2021-04")
    assert "at most 60 months" in page.text and 'value="2016-05"' in page.text


# ---- reprinting a letter ----------------------------------------------------------------------


async def test_reprint_serves_the_stored_letter_again_and_audits_it(
    app: FastAPI, world: World, as_: dict[str, httpx.AsyncClient]
) -> None:
    rid = world.r["A3"]
    letters = world.outbox / "letters"
    letters.mkdir(parents=True, exist_ok=True)
    stored = letters / f"{rid}-notice-denial.pdf"
    stored.write_bytes(b"%PDF-1.4\n% the denial letter as sent\n%%EOF\n")
    with session_scope(world.db) as session:
        letter = OutboundItem(
            item_key=f"{rid}-notice-denial", request_id=rid, channel="letter", kind="denial",
            path=str(stored), created_at=at("arizona", 2021, 3, 12),
        )  # fmt: skip
        email = OutboundItem(
            item_key=f"{rid}-email", request_id=rid, channel="email", kind="link",
            path=str(stored), created_at=at("arizona", 2021, 3, 12),
        )  # fmt: skip
        session.add_all([letter, email])
        session.flush()
        letter_id, email_id = letter.id, email.id
    sup = await signed(app, as_, "supervisor")
    token = await csrf(sup)
    url = f"/requests/{rid}/documents/{letter_id}/reprint"
    got = await sup.post(url, data={"csrf_token": token})
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert got.content == stored.read_bytes()  # the very letter sent, not a new rendering
    assert got.headers["content-disposition"].startswith("inline")
    with session_scope(world.db) as session:
        rows = list(
            session.execute(
                select(RequestEvent).where(
                    RequestEvent.request_id == rid, RequestEvent.action == "letter.reprinted"
                )
            ).scalars()
        )
    assert len(rows) == 1 and rows[0].actor == world.ids["supervisor"]
    assert rows[0].detail == {"item": letter_id, "kind": "denial"}
    # Only letters; only with the form's token; only staff who may open the request.
    assert (
        await sup.post(f"/requests/{rid}/documents/{email_id}/reprint", data={"csrf_token": token})
    ).status_code == 404
    assert (await sup.post(url)).status_code == 403
    officer = await signed(app, as_, "privacy")
    assert (await officer.post(url, data={"csrf_token": await csrf(officer)})).status_code == 403
    y = await signed(app, as_, "y")  # a Wisconsin specialist
    assert (await y.post(url, data={"csrf_token": await csrf(y)})).status_code == 403
