"""The supervisors' board: its definitions, counts by site and specialist, lists, aging chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, add_staff, insert_request, sign_in


async def test_board_counts_lists_and_chart(web_app: FastAPI, web_db: str, staff: Staff) -> None:
    add_staff(web_db, "web.sup.wi", PASSWORD, "supervisor", ["wisconsin"])
    now = datetime.now(UTC)

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    breached = insert_request(
        web_db, site="wisconsin", received_at=ago(35), breached=True, at_risk=True, legal_risk=True
    )
    at_risk = insert_request(
        web_db,
        site="wisconsin",
        received_at=ago(28),
        at_risk=True,
        legal_risk=True,
        assignee=staff.ids["specialist"],
        claimed_at=now,
    )
    insert_request(web_db, site="wisconsin", received_at=ago(16), at_risk=True)
    insert_request(web_db, site="wisconsin", received_at=ago(12))  # target in 2 days
    insert_request(web_db, site="wisconsin", received_at=ago(5), status="deficient")
    insert_request(web_db, site="wisconsin", received_at=ago(1))
    insert_request(web_db, site="wisconsin", received_at=ago(40), status="completed")
    insert_request(web_db, site="florida", received_at=ago(45), breached=True)  # not theirs

    sup = await sign_in(web_app, "web.sup.wi")
    page = await sup.get("/board")
    assert page.status_code == 200
    text = page.text
    tiles = dict(re.findall(r'tile-(\w+)[^"]*">\s*<a[^>]*><span class="n">(\d+)</span>', text))
    assert tiles == {
        "open": "6",
        "due_soon": "1",
        "target_missed": "2",
        "legal_risk": "1",
        "breached": "1",
        "waiting": "1",
        "unclaimed": "5",
    }
    assert "1 request BREACHED" in text and "<title>(1 BREACHED) Board" in text
    breached_list = re.search(r'id="list-breached".*?</section>', text, re.S).group(0)  # type: ignore[union-attr]
    assert f"/requests/{breached}" in breached_list and at_risk not in breached_list
    risk_list = re.search(r'id="list-legal_risk".*?</section>', text, re.S).group(0)  # type: ignore[union-attr]
    assert f"/requests/{at_risk}" in risk_list and staff.names["specialist"] in risk_list
    by_specialist = re.search(r'id="by-specialist".*?</table>', text, re.S).group(0)  # type: ignore[union-attr]
    assert staff.names["specialist"] in by_specialist and "Unclaimed" in by_specialist
    chart = re.search(r"<svg.*?</svg>", text, re.S).group(0)  # type: ignore[union-attr]
    assert "Open requests by age" in chart
    bars = re.findall(r"<title>([^<]+): (\d+) open</title>", chart)
    assert dict(bars) == {
        "0-7 days": "2",
        "8-14 days": "1",
        "15-21 days": "1",
        "22-30 days": "1",
        "31-45 days": "1",
        "46+ days": "0",
    }
    assert "31-45 days: 1 breached" in chart
    assert "Florida" not in re.search(r'id="by-site".*?</table>', text, re.S).group(0)  # type: ignore[union-attr]
    # The auto-refresh fetches only the board's body.
    partial = await sup.get("/board", headers={"X-Partial": "board"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "1 request BREACHED" in partial.text
    await sup.aclose()


def test_the_summary_follows_every_change(web_db: str) -> None:
    """The trigger-kept board summary always equals a direct count of the open requests,
    through inserts, stage changes, clock flags, claims, closing and deletion."""
    from datetime import date

    from sqlalchemy import delete, text, update

    from store.db import session_scope
    from store.models import RecordRequest

    def diff() -> list[tuple[object, ...]]:
        key = (
            "site, team, status, date_trunc('day', received_at, 'UTC'), "
            "COALESCE(target_due_at, 'infinity'), due_at, due_date, breached, at_risk, legal_risk"
        )
        with session_scope(web_db) as session:
            return list(
                session.execute(
                    text(
                        f"(SELECT {key}, count(*) AS n FROM requests WHERE status NOT IN "
                        "('completed','denied','cancelled','expired','rejected') GROUP BY "
                        f"{key} EXCEPT SELECT site, team, status, received_day, target_due_at, "
                        "due_at, due_date, breached, at_risk, legal_risk, n FROM board_summary) "
                        "UNION ALL (SELECT site, team, status, received_day, target_due_at, "
                        "due_at, due_date, breached, at_risk, legal_risk, n FROM board_summary "
                        f"EXCEPT SELECT {key}, count(*) FROM requests WHERE status NOT IN "
                        "('completed','denied','cancelled','expired','rejected') GROUP BY "
                        f"{key})"
                    )
                ).all()
            )

    assert diff() == []  # whatever the other tests (and their workflows) did so far
    a = insert_request(web_db, site="arizona", target_due_at=None)
    b = insert_request(web_db, site="arizona")
    assert diff() == []
    with session_scope(web_db) as session:
        session.execute(
            update(RecordRequest)
            .where(RecordRequest.id == a)
            .values(status="ready_to_release", at_risk=True)
        )
        session.execute(
            update(RecordRequest)
            .where(RecordRequest.id == b)
            .values(assignee="someone", claimed_at=datetime.now(UTC))
        )
    assert diff() == []
    with session_scope(web_db) as session:
        session.execute(
            update(RecordRequest)
            .where(RecordRequest.id == a)
            .values(status="completed", due_date=date(2030, 1, 1))
        )
        session.execute(delete(RecordRequest).where(RecordRequest.id == b))
    assert diff() == []


def test_queue_header_counts_from_the_summary_match_a_direct_count(
    web_db: str, staff: Staff
) -> None:
    from app.accounts import Account
    from store.db import session_scope
    from store.queue import QueueFilter, _live_counts, queue_counts

    now = datetime.now(UTC)
    insert_request(web_db, site="florida", received_at=now - timedelta(days=33), breached=True)
    insert_request(web_db, site="florida", status="deficient")
    insert_request(web_db, site="minnesota", assignee=staff.ids["specialist"], claimed_at=now)
    insert_request(
        web_db, site="minnesota", assignee="gone-home", claimed_at=now - timedelta(hours=5)
    )
    who = Account(id=staff.ids["specialist"], username="s", role="specialist", sites=None)
    az = Account(id="x", username="x", role="supervisor", sites=frozenset({"florida"}))
    for account in (who, az):
        for f in (
            QueueFilter(),
            QueueFilter(status="deficient"),
            QueueFilter(due="breached"),
            QueueFilter(site="minnesota"),
            QueueFilter(due="target_missed"),
            QueueFilter(due="due_7d"),
        ):
            with session_scope(web_db) as session:
                fast = queue_counts(session, account, f, now, timedelta(hours=1))
                slow = _live_counts(session, account, f, now, timedelta(hours=1))
            assert fast == slow, (account.role, f)


async def test_board_shows_each_sites_last_and_next_batch_run(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    """Supervisors see when each site's mail/CD/FedEx batch last ran and when it runs next."""
    from config.settings import get_settings
    from domain.batch import next_run, parse_batch_time
    from domain.types import Site
    from store.db import session_scope
    from store.models import BatchRun

    ran = datetime.now(UTC) - timedelta(hours=20)
    with session_scope(web_db) as session:
        session.add(
            BatchRun(
                batch_id="roi-batch-florida-test",
                site="florida",
                started_at=ran,
                finished_at=ran + timedelta(minutes=2),
                status="finished",
                counts={"sent": 7},
            )
        )
    sup = await sign_in(web_app, staff.names["supervisor"])
    page = (await sup.get("/board")).text
    await sup.aclose()
    table = re.search(r'<table[^>]*id="batch-runs".*?</table>', page, re.S)
    assert table, "no batch table on the board"
    rows = dict(re.findall(r'<th scope="row">(\w+)</th>(.*?)</tr>', table.group(0), re.S))
    assert set(rows) == {"Arizona", "Florida", "Minnesota", "Wisconsin"}
    assert ran.strftime("%b %d") in rows["Florida"] and "7 sent" in rows["Florida"]
    at = parse_batch_time(get_settings().batch_time)
    expected = next_run(Site.ARIZONA, datetime.now(UTC), at)
    assert expected.strftime("%b %d %Y, %H:%M") in rows["Arizona"]  # Arizona local, no DST
