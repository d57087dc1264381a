"""Claims: "Next request" under contention (real PostgreSQL), timeouts, release, reassign."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.accounts import Account
from store.db import session_scope
from store.models import RecordRequest, RequestEvent
from store.queue import claim_next, expire_claims
from tests.infra import migrated_database
from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, add_staff, csrf, insert_request, sign_in

CLAIMERS = 16
ROWS = 120


@pytest.fixture(scope="module")
def claims_db(server_url: str) -> Iterator[str]:
    """A database of its own: the test counts every claimable row."""
    with migrated_database(server_url, "roi_claims") as url:
        yield url


def test_concurrent_claimers_never_share_a_request(claims_db: str) -> None:
    now = datetime.now(UTC)
    for i in range(ROWS):
        insert_request(
            claims_db,
            site=("minnesota", "arizona", "florida", "wisconsin")[i % 4],
            kind="billing" if i % 5 == 0 else "access_own",
            team="billing" if i % 5 == 0 else "roi",
            status=("awaiting_verification", "ready_to_release", "received")[i % 3],
            received_at=now - timedelta(days=i % 40, minutes=i),
        )
    # Not claimable: waiting on the requester, closed, or someone else's live claim.
    insert_request(claims_db, status="deficient")
    insert_request(claims_db, status="completed")
    insert_request(claims_db, assignee="someone-else", claimed_at=now)

    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(CLAIMERS)

    def claimer(n: int) -> None:
        account = Account(id=f"claimer-{n:02d}", username=f"c{n}", role="specialist", sites=None)
        mine: list[str] = []
        barrier.wait()  # everyone starts at the same moment
        while True:
            with session_scope(claims_db) as session:
                got = claim_next(session, account, datetime.now(UTC))
            if got is None:
                break
            mine.append(got)
        claimed[account.id] = mine

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(CLAIMERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    everything = [rid for ids in claimed.values() for rid in ids]
    duplicates = [rid for rid, n in Counter(everything).items() if n > 1]
    assert not duplicates, f"claimed twice: {duplicates}"
    assert len(everything) == ROWS  # every claimable request, none of the others
    assert sum(1 for ids in claimed.values() if ids) > 1  # the work really was shared
    with session_scope(claims_db) as session:
        owners = dict(session.execute(select(RecordRequest.id, RecordRequest.assignee)).all())
        audits = Counter(
            session.execute(
                select(RequestEvent.request_id).where(RequestEvent.action == "queue.claimed")
            ).scalars()
        )
    for account_id, ids in claimed.items():
        assert all(owners[rid] == account_id for rid in ids)
    assert set(audits) == set(everything) and set(audits.values()) == {1}


def test_most_urgent_first_and_site_restriction(claims_db: str) -> None:
    now = datetime.now(UTC)
    with session_scope(claims_db) as session:  # start from an empty queue
        session.execute(update(RecordRequest).values(assignee="done", claimed_at=now))
    later = insert_request(claims_db, site="arizona", received_at=now - timedelta(days=3))
    sooner = insert_request(claims_db, site="arizona", received_at=now - timedelta(days=20))
    elsewhere = insert_request(claims_db, site="florida", received_at=now - timedelta(days=29))
    az = Account(id="az-1", username="az", role="specialist", sites=frozenset({"arizona"}))
    with session_scope(claims_db) as session:
        first = claim_next(session, az, now)
    with session_scope(claims_db) as session:
        second = claim_next(session, az, now)
    with session_scope(claims_db) as session:
        third = claim_next(session, az, now)
    assert (first, second, third) == (sooner, later, None)  # never Florida's
    with session_scope(claims_db) as session:
        assert session.get(RecordRequest, elsewhere).assignee is None  # type: ignore[union-attr]


def test_site_restricted_claimers_take_their_sites_in_due_order(claims_db: str) -> None:
    """Two of four sites (one probe per team and site): across both teams and both sites,
    most urgent first, never another site's, never twice, with claimers racing."""
    now = datetime.now(UTC)
    with session_scope(claims_db) as session:  # start from an empty queue
        session.execute(update(RecordRequest).values(assignee="done", claimed_at=now))
    mine: list[tuple[datetime, str]] = []
    for i in range(48):
        site = ("arizona", "florida", "minnesota", "wisconsin")[i % 4]
        billing = i % 3 == 0
        received = now - timedelta(days=(i * 7) % 40, minutes=i)
        rid = insert_request(
            claims_db,
            site=site,
            kind="billing" if billing else "access_own",
            team="billing" if billing else "roi",
            received_at=received,
        )
        if site in ("arizona", "florida"):
            mine.append((received, rid))
    expected = [rid for _, rid in sorted(mine)]  # due = received + 30 days
    two = frozenset({"arizona", "florida"})
    solo = Account(id="two-sites", username="two", role="specialist", sites=two)
    first = []
    for _ in range(6):
        with session_scope(claims_db) as session:
            first.append(claim_next(session, solo, now))
    assert first == expected[:6]

    claimed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def claimer(n: int) -> None:
        account = Account(id=f"two-{n}", username=f"t{n}", role="specialist", sites=two)
        barrier.wait()
        while True:
            with session_scope(claims_db) as session:
                got = claim_next(session, account, datetime.now(UTC))
            if got is None:
                return
            with lock:
                claimed.append(got)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(claimed) == sorted(expected[6:])  # each of the rest once, no other site's


def test_a_claim_left_alone_times_out(claims_db: str) -> None:
    now = datetime.now(UTC)
    with session_scope(claims_db) as session:
        session.execute(update(RecordRequest).values(assignee="done", claimed_at=now))
    stale = insert_request(claims_db, assignee="went-home", claimed_at=now - timedelta(hours=3))
    other = Account(id="next-shift", username="n", role="specialist", sites=None)
    with session_scope(claims_db) as session:
        got = claim_next(session, other, now, expire_after=timedelta(hours=1))
    assert got == stale
    with session_scope(claims_db) as session:
        actions = list(
            session.execute(
                select(RequestEvent.action).where(RequestEvent.request_id == stale)
            ).scalars()
        )
        assert actions == ["queue.claim_expired", "queue.claimed"]
        assert expire_claims(session, now, timedelta(hours=1)) == []


async def test_next_button_pressed_at_once_by_many(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    """Through HTTP: ten specialists press Next together; ten different requests."""
    names = [f"web.florida{n}" for n in range(10)]
    for name in names:
        add_staff(web_db, name, PASSWORD, "specialist", ["florida"])
    for _ in range(12):
        insert_request(web_db, site="florida")
    clients = [await sign_in(web_app, name) for name in names]
    tokens = [await csrf(c) for c in clients]
    responses = await asyncio.gather(
        *[
            c.post("/queue/next", data={"csrf_token": t})
            for c, t in zip(clients, tokens, strict=True)
        ]
    )
    targets = [r.headers["location"] for r in responses]
    assert all(r.status_code == 303 for r in responses)
    assert all(t.startswith("/requests/") for t in targets)
    assert len(set(targets)) == len(targets)
    for c in clients:
        await c.aclose()


async def test_release_and_reassign(web_app: FastAPI, web_db: str, staff: Staff) -> None:
    rid = insert_request(web_db, site="minnesota")
    spec = await sign_in(web_app, staff.names["specialist"])
    spec2 = await sign_in(web_app, staff.names["specialist2"])
    sup = await sign_in(web_app, staff.names["supervisor"])
    t1, t2, ts = await csrf(spec), await csrf(spec2), await csrf(sup)

    assert (await spec.post(f"/requests/{rid}/claim", data={"csrf_token": t1})).status_code == 303
    with session_scope(web_db) as session:
        assert session.get(RecordRequest, rid).assignee == staff.ids["specialist"]  # type: ignore[union-attr]
    # Another specialist can neither take it nor release it.
    await spec2.post(f"/requests/{rid}/claim", data={"csrf_token": t2})
    await spec2.post(f"/requests/{rid}/release", data={"csrf_token": t2})
    with session_scope(web_db) as session:
        assert session.get(RecordRequest, rid).assignee == staff.ids["specialist"]  # type: ignore[union-attr]
    # The supervisor reassigns it; the holder releases nothing they no longer hold.
    r = await sup.post(
        f"/requests/{rid}/reassign", data={"csrf_token": ts, "to": staff.ids["specialist2"]}
    )
    assert r.status_code == 303
    with session_scope(web_db) as session:
        assert session.get(RecordRequest, rid).assignee == staff.ids["specialist2"]  # type: ignore[union-attr]
    # Someone who cannot work it (admin; another site's specialist) is refused.
    r = await sup.post(
        f"/requests/{rid}/reassign", data={"csrf_token": ts, "to": staff.ids["specialist_az"]}
    )
    with session_scope(web_db) as session:
        assert session.get(RecordRequest, rid).assignee == staff.ids["specialist2"]  # type: ignore[union-attr]
    # The new holder releases it back to the queue.
    await spec2.post(f"/requests/{rid}/release", data={"csrf_token": t2})
    with session_scope(web_db) as session:
        row = session.get(RecordRequest, rid)
        assert row is not None and row.assignee is None
        trail = list(
            session.execute(
                select(RequestEvent.action, RequestEvent.actor)
                .where(RequestEvent.request_id == rid)
                .order_by(RequestEvent.id)
            ).all()
        )
    assert trail == [
        ("queue.claimed", staff.ids["specialist"]),
        ("queue.reassigned", staff.ids["supervisor"]),
        ("queue.released", staff.ids["specialist2"]),
    ]
    for c in (spec, spec2, sup):
        await c.aclose()
