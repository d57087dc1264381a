"""Parked and finished work is not open work with days left (issue 15, "clocks people can
trust"): an active proxy grant and an amendment waiting on the patient's statement of
disagreement are parked (their legal clock is met), a completed request shows when it closed
and, if after its legal due date, how late; the queue, the board and the request page agree."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from fastapi import FastAPI

from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, add_staff, insert_request, sign_in


def _tiles(html: str) -> dict[str, int]:
    found = re.findall(r'tile-(\w+)[^"]*">\s*<a[^>]*><span class="n">(\d+)</span>', html)
    return {k: int(v) for k, v in found}


def _parked_rows(web_db: str, site: str) -> tuple[str, str]:
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=400)
    proxy = insert_request(
        web_db,
        site=site,
        kind="proxy_access",
        status="active",
        received_at=long_ago,
        target_due_at=None,
    )
    amendment = insert_request(
        web_db,
        site=site,
        kind="amendment",
        team="amendment",
        status="awaiting_disagreement",
        received_at=now - timedelta(days=90),
        target_due_at=None,
    )
    return proxy, amendment


async def test_parked_and_finished_work_is_not_open_on_the_board(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    add_staff(web_db, "web.sup.parked", PASSWORD, "supervisor", ["florida"])
    sup = await sign_in(web_app, "web.sup.parked")
    before = _tiles((await sup.get("/board")).text)
    proxy, amendment = _parked_rows(web_db, "florida")
    now = datetime.now(UTC)
    insert_request(
        web_db,
        site="florida",
        status="completed",
        received_at=now - timedelta(days=60),
        closed_at=now - timedelta(days=20),
    )
    page = (await sup.get("/board")).text
    after = _tiles(page)
    # none of the three counts as open, breached, at risk or unclaimed work
    assert after == before, (before, after)
    assert proxy not in page and amendment not in page
    await sup.aclose()


async def test_the_queue_leaves_parked_work_out_and_shows_no_days_left(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    from app.accounts import Account
    from store.db import session_scope
    from store.queue import QueueFilter, _live_counts, queue_counts

    proxy, amendment = _parked_rows(web_db, "wisconsin")
    spec = await sign_in(web_app, staff.names["specialist"])
    default = (await spec.get("/queue?site=wisconsin")).text
    assert proxy not in default  # an active proxy grant is not work to do
    active = (await spec.get("/queue?status=active")).text
    row = re.search(rf'<tr[^>]*data-request="{proxy}".*?</tr>', active, re.S).group(0)  # type: ignore[union-attr]
    assert "clock met" in row and "BREACHED" not in row and "parked" in row
    await spec.aclose()

    amend = await sign_in(web_app, staff.names["amendment"])
    default = (await amend.get("/queue")).text
    assert amendment not in default
    waiting = (await amend.get("/queue?status=awaiting_disagreement")).text
    row = re.search(rf'<tr[^>]*data-request="{amendment}".*?</tr>', waiting, re.S).group(0)  # type: ignore[union-attr]
    assert "clock met" in row and "BREACHED" not in row
    await amend.aclose()

    now = datetime.now(UTC)
    who = Account(id=staff.ids["specialist"], username="s", role="specialist", sites=None)
    for f in (
        QueueFilter(status="active"),
        QueueFilter(status="active", due="breached"),
        QueueFilter(kind="proxy_access", status="active"),
    ):
        with session_scope(web_db) as session:
            fast = queue_counts(session, who, f, now, timedelta(hours=1))
            slow = _live_counts(session, who, f, now, timedelta(hours=1))
        assert fast == slow, f
        assert fast.breached == 0 and fast.target_missed == 0, f
        if f.status == "active" and f.due is None:
            assert fast.total >= 1
    with session_scope(web_db) as session:
        counts = queue_counts(session, who, QueueFilter(status="active"), now, timedelta(hours=1))
    assert counts.breached == 0 and counts.by_status.get("active", 0) >= 1


async def test_the_request_page_reads_parked_and_closed_clocks(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    proxy, amendment = _parked_rows(web_db, "minnesota")
    now = datetime.now(UTC)
    # mid-day in Minnesota, so the UTC and the local dates agree
    received = datetime.combine(now.date() - timedelta(days=45), time(18, 0), tzinfo=UTC)
    late = insert_request(
        web_db,
        site="minnesota",
        status="completed",
        received_at=received,
        due_at=received + timedelta(days=30),
        closed_at=received + timedelta(days=33, hours=2),
    )
    in_time = insert_request(
        web_db,
        site="minnesota",
        status="completed",
        received_at=received,
        closed_at=received + timedelta(days=10),
    )
    sup = await sign_in(web_app, staff.names["supervisor"])
    page = (await sup.get(f"/requests/{proxy}")).text
    standing = re.search(r'id="clock-standing".*?</div>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "Met: proxy access granted and in force" in standing
    assert "business days left" not in page and "overdue" not in page and "BREACHED" not in page
    page = (await sup.get(f"/requests/{amendment}")).text
    assert "statement of disagreement" in page and "overdue" not in page
    assert "BREACHED" not in page

    page = (await sup.get(f"/requests/{late}")).text
    standing = re.search(r'id="clock-standing".*?</div>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "completed 3 days late" in standing
    assert "Breach on record: completed 3 days late" in page  # permanent history
    assert "business days left" not in page and "overdue" not in page
    page = (await sup.get(f"/requests/{in_time}")).text
    standing = re.search(r'id="clock-standing".*?</div>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "in time" in standing and "late" not in standing
    assert "Breach on record" not in page
    await sup.aclose()


def _history(html: str) -> tuple[int, int, int]:
    line = re.search(r'id="breach-period">(.*?)</p>', html, re.S).group(1)  # type: ignore[union-attr]
    total, still_open, late = re.search(  # type: ignore[union-attr]
        r"<strong>(\d+)</strong> — (\d+) still open, (\d+) closed late", line
    ).groups()
    return int(total), int(still_open), int(late)


async def test_the_board_keeps_breaches_of_the_period_after_they_close(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    """A breach is permanent history: the board's count for the last 30 days keeps a request
    completed late, not only the open breaches."""
    add_staff(web_db, "web.sup.history", PASSWORD, "supervisor", ["arizona"])
    sup = await sign_in(web_app, "web.sup.history")
    before = _history((await sup.get("/board")).text)
    now = datetime.now(UTC)

    def received(due_days_ago: float) -> dict[str, object]:
        at = now - timedelta(days=30 + due_days_ago)
        return {"received_at": at, "due_at": at + timedelta(days=30)}

    insert_request(  # completed two days after its due date, ten days ago: counts
        web_db,
        site="arizona",
        status="completed",
        closed_at=now - timedelta(days=8),
        **received(10),
    )
    insert_request(web_db, site="arizona", **received(5))  # still open, 5 days past due: counts
    insert_request(  # completed in time: not a breach
        web_db,
        site="arizona",
        status="completed",
        closed_at=now - timedelta(days=15),
        **received(10),
    )
    insert_request(  # closed late, but its due date is before the period
        web_db,
        site="arizona",
        status="cancelled",
        closed_at=now - timedelta(days=2),
        **received(40),
    )
    insert_request(  # parked (clock met in time), long past its due date: not a breach
        web_db, site="arizona", kind="proxy_access", status="active", **received(3)
    )
    page = (await sup.get("/board")).text
    after = _history(page)
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (2, 1, 1)
    assert "Breaches in the last 30 days" in page
    # the open breach is still the live banner; the closed one is history only
    tiles = _tiles(page)
    assert tiles["breached"] >= 1
    await sup.aclose()
