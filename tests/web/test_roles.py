"""Every route × every role (and signed out): allowed, 403, or 401 — enforced on the server.

"Allowed" means the route did its work or answered about the input (2xx, 3xx, 404 for a
missing thing, 409/422 for a refused action), never 401/403.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from tests.web.conftest import Staff
from tests.web.helpers import client, csrf, insert_request, sign_in

ROLES = ("specialist", "specialist_az", "supervisor", "amendment", "integrity", "admin")
EVERYONE = frozenset(ROLES)
ROI_WORKERS = frozenset({"specialist", "supervisor"})  # the Minnesota ROI request's people
QUEUE_USERS = frozenset({"specialist", "specialist_az", "supervisor", "amendment", "integrity"})

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
    ("POST", "/requests/{roi}/claim", {}, ROI_WORKERS),
    ("POST", "/requests/{roi}/links/revoke", {}, ROI_WORKERS),
    ("POST", "/requests/{roi}/release", {}, ROI_WORKERS),
    ("POST", "/requests/{roi}/reassign", {"to": "{specialist_id}"}, frozenset({"supervisor"})),
    ("GET", "/requests/{roi}/audit", None, frozenset({"supervisor"})),
    ("GET", "/requests/{roi}/documents/1", None, ROI_WORKERS),
    ("GET", "/board", None, frozenset({"supervisor"})),
    ("GET", "/admin/users", None, frozenset({"admin"})),
    (
        "POST",
        "/admin/users",
        {"username": "x", "password": "short", "role": "specialist"},
        frozenset({"admin"}),
    ),
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


@pytest.fixture(scope="module")
def rows(web_db: str) -> dict[str, str]:
    return {
        "roi": insert_request(web_db, site="minnesota"),
        "amend": insert_request(web_db, kind="amendment", team="amendment", status="under_review"),
        "integ": insert_request(
            web_db, kind="deceased_notice", team="data_integrity", status="under_review"
        ),
    }


def _fill(template: str, rows: dict[str, str], staff: Staff) -> str:
    return template.format(**rows, specialist_id=staff.ids["specialist2"])


async def _call(
    c: httpx.AsyncClient, method: str, path: str, data: dict[str, str] | None, token: str | None
) -> httpx.Response:
    if method == "GET":
        return await c.get(path)
    if path.startswith("/api/"):
        headers = {"X-CSRF-Token": token} if token else {}
        return await c.post(path, json={"kind": "access_own"}, headers=headers)
    body = dict(data or {})
    if token:
        body["csrf_token"] = token
    return await c.post(path, data=body)


@pytest.mark.parametrize("role", ROLES)
async def test_role_matrix(role: str, web_app: FastAPI, staff: Staff, rows: dict[str, str]) -> None:
    wrong: list[str] = []
    c = await sign_in(web_app, staff.names[role])
    token = await csrf(c)
    for method, template, data, allowed in MATRIX:  # /logout comes last
        path = _fill(template, rows, staff)
        if data:
            data = {k: _fill(v, rows, staff) for k, v in data.items()}
        response = await _call(c, method, path, data, token)
        expected: Callable[[int], bool] = (
            (lambda code: code not in (401, 403)) if role in allowed else (lambda code: code == 403)
        )
        if not expected(response.status_code):
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
