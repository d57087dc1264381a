"""Issue 19: finding a request while someone is on the phone (/search and the header's box).

Real PostgreSQL (the package's migrated database, as the app's role), the real app: each kind
of query finds its request and not the others, open and closed; the account's sites and teams
bound what it finds; every search is an append-only audit row with what was typed, and the
query never reaches a log line.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from ulid import ULID

from store.db import session_scope
from store.models import IntakeSubmission
from store.search import searches_by
from tests.web.conftest import Staff
from tests.web.helpers import client, insert_request, sign_in


def _word() -> str:
    """A made-up surname of this run only (other tests share the database)."""
    return "Qz" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def _found(html: str) -> list[str]:
    """The request ids of the results table, in order."""
    return re.findall(r'<tr data-request="([0-9a-z]{26})"', html)


def _mrn() -> str:
    return "T" + "".join(secrets.choice(string.digits) for _ in range(9))


@pytest.fixture(scope="module")
def people(web_db: str) -> dict[str, object]:
    """Three requests of made-up people: two of one family (same surname), one closed late,
    one with a requester organisation, and one at another site."""
    family = _word()
    other = _word()
    firm = _word()
    now = datetime.now(UTC)
    mrns = {"ada": _mrn(), "bo": _mrn(), "cy": _mrn()}
    ada = insert_request(
        web_db,
        patient_name=f"Adaline {family}",
        patient_dob=date(1931, 2, 17),
        patient_mrn=mrns["ada"],
        requester_name=f"Adaline {family}",
        recipient_name=f"Adaline {family}",
        received_at=now - timedelta(days=3),
    )
    # closed 3 calendar days after its legal due date: still found, and says so
    received = now.replace(hour=18, minute=0) - timedelta(days=60)  # noon at the site
    due = received + timedelta(days=30)
    bo = insert_request(
        web_db,
        patient_name=f"Boris {family}",
        patient_dob=date(1931, 2, 18),
        patient_mrn=mrns["bo"],
        requester_name=f"Wendell {firm}",
        recipient_name=f"Wendell {firm}",
        received_at=received,
        due_date=due.date(),
        status="completed",
        closed_at=due + timedelta(days=3),
        breached=True,
    )
    cy = insert_request(
        web_db,
        site="arizona",
        patient_name=f"Cyrus {other}",
        patient_dob=date(1931, 2, 17),
        patient_mrn=mrns["cy"],
        requester_name="Pat Caller",
        recipient_name="Pat Caller",
        received_at=now - timedelta(days=1),
    )
    organisation = f"{firm} Records Retrieval"
    with session_scope(web_db) as session:
        session.add(
            IntakeSubmission(
                id=str(ULID()).lower(),
                received_at=now,
                channel="portal",
                source="api",
                payload={"requester": {"first_name": "Pat", "organization": organisation}},
                outcome="accepted",
                request_id=cy,
            )
        )
    tracking = {}
    with session_scope(web_db) as session:
        for key, rid in (("ada", ada), ("bo", bo), ("cy", cy)):
            tracking[key] = session.execute(
                text("SELECT tracking_number FROM requests WHERE id = :id"), {"id": rid}
            ).scalar_one()
    return {
        "family": family,
        "other": other,
        "firm": firm,
        "ada": ada,
        "bo": bo,
        "cy": cy,
        "mrns": mrns,
        "tracking": tracking,
    }


async def test_each_kind_of_query_finds_its_request_and_not_the_others(
    web_app: FastAPI, staff: Staff, people: dict[str, object]
) -> None:
    p = people
    family, other, firm = str(p["family"]), str(p["other"]), str(p["firm"])
    tracking: dict[str, str] = p["tracking"]  # type: ignore[assignment]
    mrns: dict[str, str] = p["mrns"]  # type: ignore[assignment]
    ada, bo, cy = p["ada"], p["bo"], p["cy"]
    c = await sign_in(web_app, staff.names["specialist"])

    async def found(q: str, kind: str = "auto") -> list[str]:
        page = await c.get("/search", params={"q": q, "kind": kind})
        assert page.status_code == 200, page.text[:300]
        return _found(page.text)

    # tracking number: any case, with or without dashes or the ROI prefix
    number = tracking["ada"]
    assert await found(number) == [ada]
    assert await found(number.lower()) == [ada]
    assert await found(number.replace("-", "")) == [ada]
    assert await found(number[4:].replace("-", ""), "tracking") == [ada]
    assert await found(number[4:]) == [ada]  # "7K3QD-M2X9A": no prefix, still a number
    # a partial name, any case, the start of each word; a closed request too (newest first)
    assert await found(family[:5].upper()) == [ada, bo]
    assert await found(f"ada {family[:4].lower()}") == [ada]
    assert await found(f"{family} boris", "name") == [bo]
    assert await found(other) == [cy]
    assert await found(f"zeb {family}") == []
    # date of birth, both ways of writing it (other tests' people may share a birthday)
    iso, us = await found("1931-02-17"), await found("02/17/1931")
    assert ada in iso and cy in iso and bo not in iso
    assert us == iso
    assert bo in await found("1931-02-18", "dob") and ada not in await found("1931-2-18")
    # MRN: exact, any case
    assert await found(mrns["bo"]) == [bo]
    assert await found(mrns["bo"].lower(), "mrn") == [bo]
    assert await found(mrns["bo"][:-1], "mrn") == []
    # requester: the person's name, or the organisation on the submission
    assert await found(f"wend {firm[:6]}", "requester") == [bo]
    assert await found(f"{firm} retrieval", "requester") == [cy]
    assert set(await found(firm, "requester")) == {bo, cy}
    assert await found(firm) == []  # "Anything" reads a name as the patient's
    await c.aclose()


async def test_a_closed_late_request_says_so_in_the_results(
    web_app: FastAPI, staff: Staff, people: dict[str, object]
) -> None:
    c = await sign_in(web_app, staff.names["specialist"])
    page = await c.get("/search", params={"q": people["mrns"]["bo"]})  # type: ignore[index]
    row = page.text.split(f'data-request="{people["bo"]}"')[1].split("</tr>")[0]
    assert "Closed" in row and "completed 3 days late" in row and "calendar days" in row
    assert "Boris" in row and "1931-02-18" in row and "Minnesota" in row
    assert f'href="/requests/{people["bo"]}"' in row
    # and the request page keeps the breach on record, in calendar days
    detail = await c.get(f"/requests/{people['bo']}")
    assert "completed 3 days late" in detail.text and "calendar days" in detail.text
    open_row = (await c.get("/search", params={"q": people["tracking"]["ada"]})).text  # type: ignore[index]
    assert "Open" in open_row.split(f'data-request="{people["ada"]}"')[1].split("</tr>")[0]
    await c.aclose()


async def test_sites_and_teams_bound_what_a_search_finds(
    web_app: FastAPI, staff: Staff, people: dict[str, object]
) -> None:
    tracking: dict[str, str] = people["tracking"]  # type: ignore[assignment]
    az = await sign_in(web_app, staff.names["specialist_az"])
    assert _found((await az.get("/search", params={"q": tracking["ada"]})).text) == []
    assert _found((await az.get("/search", params={"q": tracking["cy"]})).text) == [people["cy"]]
    assert _found((await az.get("/search", params={"q": "1931-02-17"})).text) == [people["cy"]]
    await az.aclose()
    # an amendment specialist works another team: the ROI request is not theirs to find
    amend = await sign_in(web_app, staff.names["amendment"])
    assert _found((await amend.get("/search", params={"q": tracking["ada"]})).text) == []
    await amend.aclose()
    # a supervisor sees every team at every site
    sup = await sign_in(web_app, staff.names["supervisor"])
    assert _found((await sup.get("/search", params={"q": tracking["cy"]})).text) == [people["cy"]]
    await sup.aclose()


async def test_every_search_is_audited_with_what_was_typed_and_never_logged(
    web_app: FastAPI,
    web_db: str,
    staff: Staff,
    people: dict[str, object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = await sign_in(web_app, staff.names["specialist2"])
    typed = f"adal {people['family']}"
    capsys.readouterr()
    assert _found((await c.get("/search", params={"q": typed})).text) == [people["ada"]]
    await c.get("/search", params={"q": "02/18/1931"})
    refused = await c.get("/search", params={"q": "x"})
    logs = capsys.readouterr()
    for phi in (str(people["family"]), "Adaline", "1931-02", "02/18/1931"):
        assert phi.lower() not in (logs.out + logs.err).lower()
    assert '"event": "search.done"' in logs.err and '"kind": "name"' in logs.err

    assert refused.status_code == 422
    assert "at least two characters" in refused.text and 'data-field="q"' in refused.text
    assert "<table" not in refused.text  # nothing was searched

    with session_scope(web_db) as session:
        rows = searches_by(session, staff.ids["specialist2"], limit=3)
    last, dob, name = rows
    assert (last.kind, last.query, last.results, last.request_ids) == ("refused", "x", 0, None)
    assert dob.kind == "dob" and dob.query == "02/18/1931" and people["bo"] in dob.request_ids
    assert dob.results >= 1
    assert (name.kind, name.query, name.results) == ("name", typed, 1)
    assert name.request_ids == [people["ada"]] and name.client and name.at
    assert all(r.actor == staff.ids["specialist2"] for r in rows)

    # the audit rows are append-only, even for the app's own database role
    with pytest.raises(DBAPIError), session_scope(web_db) as session:
        session.execute(
            text("UPDATE request_searches SET query = 'x' WHERE id = :id"), {"id": name.id}
        )


async def test_bad_queries_get_a_message_not_a_scan(web_app: FastAPI, staff: Staff) -> None:
    c = await sign_in(web_app, staff.names["specialist"])
    for q, kind, message in (
        ("", "auto", "at least two characters"),
        ("  a ", "auto", "at least two characters"),
        ("a b", "auto", "at least two letters"),
        ("1984-02-30", "auto", "not a real date"),
        ("smith", "dob", "1984-03-07 or 03/07/1984"),
        ("ROI-12", "tracking", "ROI-7K3QD-M2X9A"),
        ("12 34", "mrn", "letters, digits and dashes"),
        ("x" * 201, "auto", "at most 200"),
    ):
        page = await c.get("/search", params={"q": q, "kind": kind})
        assert page.status_code == 422, (q, kind)
        assert message in page.text, (q, kind)
    # the bare page is just the form
    bare = await c.get("/search")
    assert bare.status_code == 200 and 'id="search-q"' in bare.text and "<table" not in bare.text
    await c.aclose()


async def test_results_are_paged_newest_first(web_app: FastAPI, web_db: str, staff: Staff) -> None:
    surname = _word()
    now = datetime.now(UTC)
    ids = [
        insert_request(
            web_db,
            patient_name=f"Page {surname}",
            received_at=now - timedelta(hours=i + 1),
            status="completed" if i % 2 else "awaiting_verification",
            closed_at=now - timedelta(hours=i) if i % 2 else None,
        )
        for i in range(52)
    ]
    c = await sign_in(web_app, staff.names["specialist"])
    first = await c.get("/search", params={"q": surname})
    assert _found(first.text) == ids[:50]
    assert "52 requests found" in first.text and "page 1 of 2" in first.text
    second = await c.get("/search", params={"q": surname, "page": 2})
    assert _found(second.text) == ids[50:]
    assert "← Previous" in second.text and "Next page" not in second.text
    beyond = await c.get("/search", params={"q": surname, "page": 9})
    assert _found(beyond.text) == [] and "52 requests found" in beyond.text
    await c.aclose()


async def test_who_may_search(web_app: FastAPI, staff: Staff) -> None:
    async with client(web_app) as anonymous:
        assert (await anonymous.get("/search", params={"q": "smith"})).status_code == 401
    for role in ("admin", "privacy"):
        c = await sign_in(web_app, staff.names[role])
        assert (await c.get("/search", params={"q": "smith"})).status_code == 403
        assert 'id="top-search"' not in (await c.get("/account")).text
        await c.aclose()
    for role in ("specialist", "supervisor", "amendment", "integrity"):
        c = await sign_in(web_app, staff.names[role])
        assert 'id="top-search"' in (await c.get("/account")).text  # on every staff page
        await c.aclose()
