"""Every route × every role (and signed out): allowed, 403, or 401 — enforced on the server.

"Allowed" means the route did its work: 2xx, or a redirect that is not to the sign-in page.
The requests behind the routes run on real workflows and every input is valid, so a 4xx for an
allowed role is a wrong answer and a 5xx a broken route. "Forbidden" means exactly 403 when
signed in, 401 when signed out.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from app.auth import open_session
from app.config import WebSettings
from app.security import token_hash
from store import documents
from store.db import session_scope
from store.models import RecordRequest
from store.web_models import StaffSession
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, add_staff, client, csrf, insert_request, sign_in

ROLES = ("specialist", "specialist_az", "supervisor", "amendment", "integrity", "admin", "privacy")
EVERYONE = frozenset(ROLES)
ROI_WORKERS = frozenset({"specialist", "supervisor"})  # the Minnesota ROI request's people
QUEUE_USERS = frozenset({"specialist", "specialist_az", "supervisor", "amendment", "integrity"})
PRIVACY = frozenset({"privacy"})  # the privacy officer's read-only logs
AUDITORS = frozenset({"supervisor", "privacy"})  # a request's audit trail, every team
VIEWERS = QUEUE_USERS  # Can.VIEW_REQUEST: search their own teams' requests at their sites
REPORTERS = frozenset({"supervisor", "privacy"})  # Can.REPORTS
INTAKE = frozenset({"specialist", "specialist_az", "supervisor"})  # Can.SUBMIT_INTAKE

DISCLOSURE = {  # one made outside the engine (tests/web/test_web_steps.py)
    "disclosed_at": "2025-01-06T10:00",
    "recipient_name": "County Public Health Department",
    "description": "Immunization record",
    "purpose": "Required report",
    "category": "public_health",
    "method": "us_mail",
}

#: The split screen's fields for a complete request for one's own records at Arizona (every
#: account that may submit intake covers Arizona).
DOCUMENT_FORM = {
    "kind": "access_own",
    "site": "arizona",
    "channel": "mail",
    "language": "en",
    "delivery_method": "email_link",
    "patient.first_name": "Avery",
    "patient.last_name": "Testpatient",
    "patient.date_of_birth": "1984-03-09",
    "patient.mrn": "MRN-0000001",
    "requester.first_name": "Avery",
    "requester.last_name": "Testpatient",
    "requester.relationship": "self",
    "requester.email": "avery.testpatient@example.org",
    "requester.line1": "100 Example Ave",
    "requester.city": "Phoenix",
    "requester.state": "AZ",
    "requester.postal_code": "85004",
    "records.description": "All visit notes and lab results",
    "records.date_from": "2024-01-01",
    "records.date_to": "2025-06-30",
}
#: A one-pixel PNG: the stored page image of the matrix's inbound document.
PAGE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)

NEW_PASSWORD = {"password": "matrix-owl-lantern-7", "confirm": "matrix-owl-lantern-7"}
OLD_PASSWORD = {"password": PASSWORD, "confirm": PASSWORD}

# (method, path template, form data, who may) -- {roi}, {amend}, {integ}: requests by team
MATRIX: list[tuple[str, str, dict[str, str] | None, frozenset[str]]] = [
    ("GET", "/", None, EVERYONE),
    ("GET", "/queue", None, QUEUE_USERS),
    ("GET", "/queue?kind=access_own&due=due_7d&claim=mine", None, QUEUE_USERS),
    ("POST", "/queue/next", {}, QUEUE_USERS),
    ("GET", "/requests/{roi}", None, ROI_WORKERS),
    ("GET", "/requests/{amend}", None, frozenset({"amendment", "supervisor"})),
    ("GET", "/requests/{integ}", None, frozenset({"integrity", "supervisor"})),
    ("POST", "/requests/{roi}/actions/add_note", {"text": "called back"}, ROI_WORKERS),
    (
        "POST",
        "/requests/{amend}/actions/add_note",
        {"text": "x"},
        frozenset({"amendment", "supervisor"}),
    ),
    (
        "POST",
        "/requests/{integ}/actions/add_note",
        {"text": "x"},
        frozenset({"integrity", "supervisor"}),
    ),
    ("POST", "/requests/{roi}/claim", {}, ROI_WORKERS),
    ("POST", "/requests/{roi}/links/revoke", {}, ROI_WORKERS),
    ("POST", "/requests/{roi}/release", {}, ROI_WORKERS),
    ("POST", "/requests/{roi}/reassign", {"to": "{specialist_id}"}, frozenset({"supervisor"})),
    # bulk from the queue: nothing ticked (a message), one row, and one row given to someone
    ("POST", "/queue/claim", {}, QUEUE_USERS),
    ("POST", "/queue/claim", {"ids": "{roi}"}, ROI_WORKERS),
    (
        "POST",
        "/queue/reassign",
        {"ids": "{roi}", "to": "{specialist_id}"},
        frozenset({"supervisor"}),
    ),
    ("GET", "/requests/{roi}/audit", None, AUDITORS),
    ("GET", "/requests/{amend}/audit", None, AUDITORS),
    ("GET", "/requests/{integ}/audit", None, AUDITORS),
    ("GET", "/requests/{roi}/documents/{doc}", None, ROI_WORKERS),
    ("POST", "/requests/{roi}/documents/{doc}/reprint", {}, ROI_WORKERS),
    ("GET", "/requests/{roi}/packet", None, ROI_WORKERS),
    ("GET", "/requests/{roi}/packet.pdf", None, ROI_WORKERS),
    ("GET", "/requests/{roi}/disclosures", None, ROI_WORKERS),
    ("POST", "/requests/{roi}/disclosures", DISCLOSURE, ROI_WORKERS),
    ("GET", "/intake/review", None, QUEUE_USERS),
    ("GET", "/intake/review/{kept}", None, ROI_WORKERS),
    ("POST", "/intake/review/{kept}", {"submission": "{kept_body}"}, ROI_WORKERS),
    ("GET", "/search", None, VIEWERS),
    ("GET", "/search?q={roi_tracking}", None, VIEWERS),
    ("GET", "/search?q=Testpatient&kind=name&page=1", None, VIEWERS),
    ("GET", "/reports", None, REPORTERS),
    ("GET", "/reports/compliance", None, REPORTERS),
    ("GET", "/reports/breaches?site=minnesota&from=2025-01&to=2025-12&page=1", None, REPORTERS),
    ("GET", "/reports/specialists.csv", None, REPORTERS),
    ("GET", "/reports/fees.xlsx?site=arizona", None, REPORTERS),
    ("GET", "/intake/documents", None, INTAKE),
    ("GET", "/intake/documents?site=arizona", None, INTAKE),
    ("POST", "/intake/documents/upload", {"site": "arizona", "file": "a letter"}, INTAKE),
    ("GET", "/intake/documents/{idoc}", None, INTAKE),
    ("GET", "/intake/documents/{idoc}/pages/1.png", None, INTAKE),
    ("GET", "/intake/documents/{idoc}/file", None, INTAKE),
    ("POST", "/intake/documents/{idoc}/confirm", DOCUMENT_FORM, INTAKE),
    # the first allowed role submits it; the others are shown what became of it
    ("POST", "/intake/documents/{idoc}/submit", DOCUMENT_FORM, INTAKE),
    ("POST", "/intake/documents/{junk}/discard", {"reason": "cover sheet"}, INTAKE),
    ("GET", "/board", None, frozenset({"supervisor"})),
    ("GET", "/board/batch/wisconsin", None, frozenset({"supervisor"})),
    ("POST", "/board/batch/wisconsin/run", {}, frozenset({"supervisor"})),
    ("GET", "/privacy/security-events", None, PRIVACY),
    (
        "GET",
        "/privacy/security-events?action=auth.login&outcome=ok&actor=web.sup&from=2020-01-01"
        "&to=2099-12-31&page=1",
        None,
        PRIVACY,
    ),
    ("GET", "/privacy/disclosures", None, PRIVACY),
    (
        "GET",
        "/privacy/disclosures?site=minnesota&from=2020-01-01&to=2099-12-31&category=court_order"
        "&purpose=court&accountable=1&page=2",
        None,
        PRIVACY,
    ),
    ("GET", "/privacy/disclosures.csv?site=arizona", None, PRIVACY),
    ("GET", "/admin/users", None, frozenset({"admin"})),
    ("GET", "/admin/tokens", None, frozenset({"admin"})),
    ("POST", "/admin/tokens", {"name": "matrix-token"}, frozenset({"admin"})),
    ("POST", "/admin/tokens/matrix-token/revoke", {}, frozenset({"admin"})),
    ("POST", "/admin/users/{specialist_id}/sign-in-delay/clear", {}, frozenset({"admin"})),
    (
        "POST",
        "/admin/users",
        {"username": "matrix.new", "role": "specialist", "sites": "all"},
        frozenset({"admin"}),
    ),
    ("POST", "/admin/users/{reset_target}/reset", {}, frozenset({"admin"})),
    ("POST", "/admin/users/{sessions_target}/sessions/end", {}, frozenset({"admin"})),
    ("GET", "/account", None, EVERYONE),
    ("GET", "/account/sessions", None, EVERYONE),
    # one of the account's own other sessions (opened for the test), then all the others
    ("POST", "/account/sessions/{own_session}/end", {}, EVERYONE),
    ("POST", "/account/sessions/end-others", {}, EVERYONE),
    # another person's session: nobody ends it here (admins end an account's sessions above)
    ("POST", "/account/sessions/{other_session}/end", {}, frozenset()),
    # each account changes its own password, then back (the other tests sign in with it)
    ("POST", "/account/password", {**NEW_PASSWORD, "current": PASSWORD}, EVERYONE),
    ("POST", "/account/password", {**OLD_PASSWORD, "current": NEW_PASSWORD["password"]}, EVERYONE),
    (
        "POST",
        "/admin/users/{specialist_id}",
        {"role": "specialist", "sites": "all", "active": "on"},
        frozenset({"admin"}),
    ),
    (
        "POST",
        "/api/v1/requests/access_own",
        None,
        frozenset({"specialist", "specialist_az", "supervisor"}),
    ),
    ("POST", "/logout", {}, EVERYONE),
]
PUBLIC = [
    ("GET", "/login"),
    ("GET", "/status"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/healthz"),
]


def _received_now() -> str:
    return (datetime.now(UTC) - timedelta(hours=3)).isoformat()


async def _start(h: Harness, data: dict[str, Any]) -> str:
    """A request on a real workflow, once the read model shows it past intake."""
    result = await h.submit(data)
    assert result.accepted, result.errors
    rid = result.request_id or ""
    for _ in range(300):
        with session_scope(h.database_url) as session:
            row = session.get(RecordRequest, rid)
            if row is not None and row.status != "received":
                return rid
        await asyncio.sleep(0.05)
    raise AssertionError("never triaged")


async def _first_letter(h: Harness, rid: str) -> str:
    """The id of the request's first letter in the outbox (a document staff may open)."""
    for _ in range(300):
        items = [o for o in h.outbound(rid) if o.channel == "letter" and o.path]
        if items:
            return str(items[0].id)
        await asyncio.sleep(0.05)
    raise AssertionError("no letter was sent")


@pytest.fixture(scope="module")
async def rows(web_worker: Harness, web_db: str) -> dict[str, str]:
    """One request per team, each on a running workflow, so an allowed action really runs."""
    now = _received_now()
    sessions_target = add_staff(web_db, "matrix.sessions.target")
    _session(web_db, sessions_target)
    roi = await _start(web_worker, factories.own_records(received_at=now))
    bad = factories.own_records(received_at=now)
    bad["patient"] = {**bad["patient"], "date_of_birth": "1984-02-31"}
    kept = await web_worker.submit(bad)  # refused at intake, kept for staff review
    bad["patient"]["date_of_birth"] = "1984-02-28"
    with session_scope(web_db) as session:
        tracking = session.get(RecordRequest, roi).tracking_number  # type: ignore[union-attr]
    return {
        "idoc": _inbound_document(web_db),
        "junk": _inbound_document(web_db),
        "roi_tracking": tracking,
        "kept": kept.submission_id,
        "kept_body": json.dumps(bad),
        "roi": roi,
        "amend": await _start(web_worker, factories.amendment(received_at=now)),
        "integ": await _start(web_worker, factories.deceased_notice(received_at=now)),
        "doc": await _first_letter(web_worker, roi),
        "reset_target": add_staff(web_db, "matrix.reset.target"),  # an admin resets it
        "sessions_target": sessions_target,  # an admin ends its sessions
        "other_session": _session(web_db, add_staff(web_db, "matrix.sessions.owner")),
    }


def _inbound_document(database_url: str) -> str:
    """A document waiting at Arizona with one page image (stored as a reading would leave it;
    no reading is started, so it stays open until the matrix submits or discards it)."""
    with session_scope(database_url) as session:
        document_id, _ = documents.store(
            session,
            channel="mail",
            site="arizona",
            received_at=datetime.now(UTC) - timedelta(hours=1),
            content=b"A request for my records.",
            content_type="text/plain",
        )
        documents.store_pages(session, document_id, [PAGE_PNG])
    return document_id


def _session(database_url: str, user_id: str) -> str:
    """The number of a new (full) session of the account."""
    with session_scope(database_url) as session:
        token = open_session(session, user_id, WebSettings())
    with session_scope(database_url) as session:
        row = session.get(StaffSession, token_hash(token))
        assert row is not None and row.id
        return str(row.id)


def _fill(template: str, rows: dict[str, str], staff: Staff, own_session: str = "1") -> str:
    return template.format(**rows, specialist_id=staff.ids["specialist2"], own_session=own_session)


async def _call(
    c: httpx.AsyncClient, method: str, path: str, data: dict[str, str] | None, token: str | None
) -> httpx.Response:
    if method == "GET":
        return await c.get(path)
    if path.startswith("/api/"):
        headers = {"X-CSRF-Token": token} if token else {}
        # a complete submission at the one site every allowed account covers
        submission = factories.own_records(site="arizona", received_at=_received_now())
        return await c.post(path, json=submission, headers=headers)
    body = dict(data or {})
    if token:
        body["csrf_token"] = token
    if "file" in body:  # an upload: the file's text as a plain-text scan
        scan = ("letter.txt", body.pop("file").encode(), "text/plain")
        return await c.post(path, data=body, files={"file": scan})
    return await c.post(path, data=body)


def _did_its_work(response: httpx.Response) -> bool:
    """2xx, or a redirect somewhere other than the sign-in page. Anything else (4xx, 5xx) is a
    failure for a role that is allowed the route."""
    if 200 <= response.status_code < 300:
        return True
    if 300 <= response.status_code < 400:
        target = urlsplit(response.headers.get("location", "")).path
        return not target.startswith("/login")
    return False


@pytest.mark.parametrize("role", ROLES)
async def test_role_matrix(
    role: str, web_app: FastAPI, web_db: str, staff: Staff, rows: dict[str, str]
) -> None:
    wrong: list[str] = []
    c = await sign_in(web_app, staff.names[role])
    token = await csrf(c)
    own_session = _session(web_db, staff.ids[role])  # another session of this account
    for method, template, data, allowed in MATRIX:  # /logout comes last
        path = _fill(template, rows, staff, own_session)
        if data:
            data = {k: _fill(v, rows, staff) for k, v in data.items()}
        response = await _call(c, method, path, data, token)
        ok = _did_its_work(response) if role in allowed else response.status_code == 403
        if not ok:
            wrong.append(
                f"{method} {template}: {response.status_code} "
                f"({'allowed' if role in allowed else 'forbidden'} expected)"
            )
    await c.aclose()
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


async def test_signed_out_gets_401_everywhere_but_public(
    web_app: FastAPI, staff: Staff, rows: dict[str, str]
) -> None:
    async with client(web_app) as c:
        wrong = []
        for method, template, data, _ in MATRIX:
            response = await _call(c, method, _fill(template, rows, staff), data, None)
            if response.status_code != 401:
                wrong.append(f"{method} {template}: {response.status_code}")
        for method, path in PUBLIC:
            response = await c.request(method, path)
            if response.status_code != 200:
                wrong.append(f"{method} {path}: {response.status_code} (public)")
    assert not wrong, "\n".join(wrong)


async def test_other_sites_requests_are_refused_even_by_id(
    web_app: FastAPI, staff: Staff, web_db: str
) -> None:
    arizona = insert_request(web_db, site="arizona")
    florida = insert_request(web_db, site="florida")
    c = await sign_in(web_app, staff.names["specialist_az"])
    assert (await c.get(f"/requests/{arizona}")).status_code == 200
    assert (await c.get(f"/requests/{florida}")).status_code == 403
    queue = (await c.get("/queue")).text
    assert florida not in queue
    await c.aclose()


#: The second step of sign-in (app/routes/mfa.py): only a session whose password was right and
#: whose code is still to come may use it; a fully signed-in one and nobody at all get 401.
SIGN_IN_STEPS = [("GET", "/login/mfa"), ("POST", "/login/mfa"), ("POST", "/login/mfa/setup")]


@pytest.mark.parametrize("role", ROLES)
async def test_the_second_step_is_only_for_a_pending_sign_in(
    role: str, web_app: FastAPI, staff: Staff
) -> None:
    c = await sign_in(web_app, staff.names[role])
    token = await csrf(c)
    for method, path in SIGN_IN_STEPS:
        data = {"code": "123456", "csrf_token": token} if method == "POST" else None
        answer = await (c.post(path, data=data) if data else c.get(path))
        assert answer.status_code == 401, (role, method, path, answer.status_code)
    await c.aclose()
