"""Bulk claim and reassign from the queue: ticked rows, one POST, a report of what was done.

Real PostgreSQL, real sign-ins and CSRF tokens; the rows are read-model rows without workflows
(claims and reassignments never ask the workflow service).
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from ulid import ULID

from store.db import session_scope
from store.models import RecordRequest, RequestEvent
from tests.web.conftest import Staff
from tests.web.helpers import csrf, insert_request, sign_in

SIGNED_IN = ("specialist", "specialist2", "specialist_az", "supervisor", "privacy", "admin")


@pytest.fixture(scope="module")
async def people(web_app: FastAPI, staff: Staff) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One signed-in client per role the tests use (signing in is the slow part)."""
    clients = {label: await sign_in(web_app, staff.names[label]) for label in SIGNED_IN}
    yield clients
    for c in clients.values():
        await c.aclose()


def _rows(db: str, n: int, **overrides: Any) -> list[str]:
    """n unclaimed requests that arrived by phone (the queue's filter finds them; received
    a day ago, last in its order: another test's "Next request" takes its own rows first).
    Never at Wisconsin, whose board tests/web/test_board.py counts exactly."""
    received = datetime.now(UTC) - timedelta(days=1)
    return [
        insert_request(db, received_at=received, channel="phone", **overrides) for _ in range(n)
    ]


def _owner(db: str, request_id: str) -> str | None:
    with session_scope(db) as session:
        row = session.get(RecordRequest, request_id)
        assert row is not None
        return row.assignee


def _trail(db: str, request_id: str) -> list[tuple[str, str, Any]]:
    """(action, actor, detail) of the request's audit rows, oldest first."""
    with session_scope(db) as session:
        return [
            (a, b, c)
            for a, b, c in session.execute(
                select(RequestEvent.action, RequestEvent.actor, RequestEvent.detail)
                .where(RequestEvent.request_id == request_id)
                .order_by(RequestEvent.id)
            ).all()
        ]


def _tracking(db: str, request_id: str) -> str:
    with session_scope(db) as session:
        row = session.get(RecordRequest, request_id)
        assert row is not None
        return row.tracking_number


async def _flash(c: httpx.AsyncClient, location: str) -> str:
    """The one-time message the page redirected to shows."""
    page = (await c.get(location)).text
    found = re.search(r'<div class="flash flash-(\w+)" role="status">([^<]*)</div>', page)
    assert found, "no message on the page"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


async def test_bulk_claim_takes_the_free_rows_and_counts_the_one_taken_meanwhile(
    people: dict[str, httpx.AsyncClient], web_db: str, staff: Staff
) -> None:
    spec, other = people["specialist"], people["specialist2"]
    first, raced, third = _rows(web_db, 3, site="florida")
    page = (await spec.get("/queue?channel=phone&site=florida&claim=unclaimed")).text
    for rid in (first, raced, third):  # a box per row, named by its tracking number
        tracking = _tracking(web_db, rid)
        assert f'value="{rid}" id="pick-{rid}" aria-label="Select {tracking}"' in page
    assert 'id="select-all"' in page and 'id="bulk-claim"' in page
    assert 'id="bulk-reassign"' not in page  # a specialist does not reassign
    # between the page load and the POST, another specialist claims one of the three
    taken = await other.post(f"/requests/{raced}/claim", data={"csrf_token": await csrf(other)})
    assert taken.status_code == 303

    answer = await spec.post(
        "/queue/claim?channel=phone&site=florida&claim=unclaimed",
        data={"csrf_token": await csrf(spec), "ids": [first, raced, third]},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/queue?channel=phone&site=florida&claim=unclaimed"
    message = await _flash(spec, answer.headers["location"])
    assert message == (
        "info: Claimed 2 requests. 1 request already taken by someone else, left to them."
    )
    me, them = staff.ids["specialist"], staff.ids["specialist2"]
    assert [_owner(web_db, r) for r in (first, raced, third)] == [me, them, me]
    for rid in (first, third):
        assert _trail(web_db, rid) == [("queue.claimed", me, {"how": "picked"})]
    assert _trail(web_db, raced) == [("queue.claimed", them, {"how": "picked"})]


async def test_select_all_on_the_page_works_without_javascript(
    people: dict[str, httpx.AsyncClient], web_db: str, staff: Staff
) -> None:
    """The box alone (no row ticked by a script) takes every row the page listed."""
    spec = people["specialist2"]
    rows = _rows(web_db, 2, site="minnesota")
    answer = await spec.post(
        "/queue/claim",
        data={"csrf_token": await csrf(spec), "page_ids": rows, "all_on_page": "1"},
    )
    assert answer.status_code == 303
    assert await _flash(spec, answer.headers["location"]) == "ok: Claimed 2 requests."
    assert [_owner(web_db, r) for r in rows] == [staff.ids["specialist2"]] * 2


async def test_a_row_outside_the_accounts_sites_refuses_the_whole_claim(
    people: dict[str, httpx.AsyncClient], web_db: str
) -> None:
    az = people["specialist_az"]
    (arizona,) = _rows(web_db, 1, site="arizona")
    (minnesota,) = _rows(web_db, 1, site="minnesota")
    answer = await az.post(
        "/queue/claim", data={"csrf_token": await csrf(az), "ids": [arizona, minnesota]}
    )
    assert answer.status_code == 403
    assert "another site or team" in answer.text
    assert _owner(web_db, arizona) is None and _owner(web_db, minnesota) is None
    assert _trail(web_db, arizona) == [] and _trail(web_db, minnesota) == []


async def test_supervisor_reassigns_ticked_rows_to_someone_covering_them(
    people: dict[str, httpx.AsyncClient], web_db: str, staff: Staff
) -> None:
    sup = people["supervisor"]
    rows = _rows(web_db, 2, site="minnesota")
    page = (await sup.get("/queue?channel=phone&site=minnesota&claim=unclaimed")).text
    assert 'id="bulk-reassign"' in page and all(f'id="pick-{rid}"' in page for rid in rows)
    people_offered = dict(
        (name, uid)
        for uid, name in re.findall(r'<option value="([0-9A-Za-z]+)" >([^<]+)</option>', page)
    )
    assert people_offered.get("web.spec2") == staff.ids["specialist2"]
    assert "web.spec.az" not in people_offered  # covers Arizona only: no Minnesota row is hers
    assert "web.admin" not in people_offered and "web.privacy" not in people_offered

    answer = await sup.post(
        "/queue/reassign?channel=phone&site=minnesota&claim=unclaimed",
        data={"csrf_token": await csrf(sup), "ids": rows, "to": staff.ids["specialist2"]},
    )
    assert answer.status_code == 303
    message = await _flash(sup, answer.headers["location"])
    assert message == "ok: Reassigned 2 requests to web.spec2."
    to = staff.ids["specialist2"]
    for rid in rows:
        assert _owner(web_db, rid) == to
        assert _trail(web_db, rid) == [("queue.reassigned", staff.ids["supervisor"], {"to": to})]


async def test_a_row_the_chosen_person_may_not_take_is_refused_by_tracking_number(
    people: dict[str, httpx.AsyncClient],
    web_db: str,
    staff: Staff,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sup = people["supervisor"]
    arizona = _rows(web_db, 2, site="arizona")
    (minnesota,) = _rows(web_db, 1, site="minnesota")
    az = staff.ids["specialist_az"]
    answer = await sup.post(
        "/queue/reassign",
        data={"csrf_token": await csrf(sup), "ids": [*arizona, minnesota], "to": az},
    )
    assert answer.status_code == 422
    page = html.unescape(answer.text)
    tracking = _tracking(web_db, minnesota)
    refused = f"{tracking}: not reassigned, web.spec.az does not cover Minnesota."
    assert "Reassigned 2 requests to web.spec.az. 1 request not reassigned:" in page
    assert f'<li data-refused="{minnesota}"><a href="#pick-{minnesota}">{refused}</a></li>' in page
    for rid in arizona:
        assert f"{_tracking(web_db, rid)}: not reassigned" not in page
        assert _owner(web_db, rid) == az
        assert _trail(web_db, rid) == [("queue.reassigned", staff.ids["supervisor"], {"to": az})]
    assert _owner(web_db, minnesota) is None and _trail(web_db, minnesota) == []
    logged = "".join(capfd.readouterr())  # the log names requests by id: no tracking, no PHI
    assert '"queue.bulk_reassigned"' in logged and minnesota in logged
    assert tracking not in logged and "Testpatient" not in logged

    # someone who may take none of them: nothing moves, the choice of person is what is wrong
    (florida,) = _rows(web_db, 1, site="florida")
    answer = await sup.post(
        "/queue/reassign",
        data={"csrf_token": await csrf(sup), "ids": [florida], "to": staff.ids["admin"]},
    )
    assert answer.status_code == 422
    assert 'data-field="to" id="bulk-to-error"' in answer.text
    assert _owner(web_db, florida) is None and _trail(web_db, florida) == []


async def test_more_than_a_hundred_rows_or_a_bad_id_is_refused_whole(
    people: dict[str, httpx.AsyncClient], web_db: str
) -> None:
    spec = people["specialist"]
    (real,) = _rows(web_db, 1, site="arizona")
    many = [real, *(str(ULID()).lower() for _ in range(100))]
    answer = await spec.post("/queue/claim", data={"csrf_token": await csrf(spec), "ids": many})
    assert answer.status_code == 422
    assert "Tick at most 100 requests at a time: 101 were ticked. Nothing was changed." in (
        answer.text
    )
    assert _owner(web_db, real) is None
    forged = await spec.post(
        "/queue/claim", data={"csrf_token": await csrf(spec), "ids": [real, "../../admin"]}
    )
    assert forged.status_code == 422 and "not a request of this queue" in forged.text
    assert _owner(web_db, real) is None and _trail(web_db, real) == []


async def test_roles_that_may_not_act_are_refused_and_nothing_moves(
    people: dict[str, httpx.AsyncClient], web_db: str, staff: Staff
) -> None:
    (row,) = _rows(web_db, 1, site="minnesota")
    for label in ("privacy", "admin"):  # no queue at all
        c = people[label]
        answer = await c.post("/queue/claim", data={"csrf_token": await csrf(c), "ids": [row]})
        assert answer.status_code == 403, label
    spec = people["specialist"]  # works the queue, but reassigns nobody's work
    answer = await spec.post(
        "/queue/reassign",
        data={"csrf_token": await csrf(spec), "ids": [row], "to": staff.ids["specialist"]},
    )
    assert answer.status_code == 403
    sup = people["supervisor"]  # allowed, but not without the form's token
    answer = await sup.post("/queue/reassign", data={"ids": [row], "to": staff.ids["specialist"]})
    assert answer.status_code == 403
    assert _owner(web_db, row) is None and _trail(web_db, row) == []
