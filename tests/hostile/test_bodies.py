"""Oversized, malformed and deeply nested bodies, and path traversal in every path the app
serves files from: refused with a reason, never a 5xx, never a file from outside its folder."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI

from store.db import session_scope
from store.models import IntakeSubmission
from tests import factories
from tests.hostile.helpers import assert_explained, send_raw
from tests.web.helpers import client, sign_in

URL = "/api/v1/requests/access_own"

MALFORMED: dict[str, bytes] = {
    "empty": b"",
    "not json": b"patient=Avery",
    "truncated": b'{"kind": "access_own", "patient": {',
    "invalid utf-8": b'{"kind": "\xff\xfe"}',
    "raw NUL byte": b'{"kind": "access_own", "note": "a\x00b"}',
    "escaped NUL": b'{"kind": "access_own", "patient": {"first_name": "A\\u0000"}}',
    "NUL in a key": b'{"kind": "access_own", "\\u0000": 1}',
    "lone surrogate": b'{"kind": "access_own", "patient": {"last_name": "\\ud800"}}',
    "array": b"[1, 2, 3]",
    "string": b'"hello"',
    "null": b"null",
    "NaN": b'{"kind": "access_own", "fee": NaN}',
    "huge number": b'{"kind": "access_own", "patient": {"mrn": 1' + b"0" * 5000 + b"}}",
    "duplicate keys": b'{"kind": "access_own", "kind": "billing"}',
    "deep nesting": b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
    "deep lists": b"[" * 900 + b"]" * 900,
    "deep list field": b'{"kind": "access_own", "x": ' + b"[" * 900 + b"]" * 900 + b"}",
    "BOM": b"\xef\xbb\xbf" + json.dumps(factories.own_records()).encode(),
}


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_malformed_body_is_refused_with_a_reason(
    name: str, web_app: FastAPI, api_token: str
) -> None:
    headers = {"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"}
    response = await send_raw(web_app, "POST", URL, headers, MALFORMED[name])
    assert response.status_code in (201, 400, 413, 422), (response.status_code, response.text)
    assert_explained(response)


async def test_an_oversized_body_is_refused_before_it_is_read(
    web_app: FastAPI, api_token: str
) -> None:
    body = factories.own_records()
    body["records"]["description"] = "A" * 3_000_000
    headers = {"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"}
    response = await send_raw(web_app, "POST", URL, headers, json.dumps(body).encode())
    assert response.status_code == 413, response.text[:300]
    assert_explained(response)


async def test_an_oversized_form_is_refused(web_app: FastAPI) -> None:
    async with client(web_app) as c:
        response = await c.post(
            "/login", data={"username": "x" * 3_000_000, "password": "y", "csrf_token": "z"}
        )
    assert response.status_code in (400, 413), response.status_code


TRAVERSALS = [
    "/static/../app/config.py",
    "/static/..%2f..%2fpyproject.toml",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/....//....//pyproject.toml",
    "/download/..%2f..%2f..%2fetc%2fpasswd",
    "/download/../../etc/passwd",
    "/download/%00",
    "/download/" + "A" * 10_000,
    "/requests/..%2f..%2fetc%2fpasswd",
    "/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV/documents/..%2f..%2fetc%2fpasswd",
    "/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV/documents/-1",
    "/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV/documents/99999999999999999999999",
    "/requests/%00/audit",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_path_traversal_never_serves_a_file_outside_its_folder(
    path: str, web_app: FastAPI, staff: object
) -> None:
    signed = await sign_in(web_app, "web.admin")
    response = await signed.get(path)
    await signed.aclose()
    assert response.status_code in (400, 403, 404, 410, 422), (path, response.status_code)
    for secret in ("[project]", "root:x:", "class WebSettings", "link_secret"):
        assert secret not in response.text, path


async def test_a_key_reused_for_another_kind_never_drops_the_second_request(
    web_app: FastAPI, web_db: str, api_token: str
) -> None:
    """Answering the second with the first's tracking number would lose it silently."""
    from store.db import session_scope
    from store.models import IntakeSubmission

    headers = {"Authorization": f"Bearer {api_token}", "Idempotency-Key": "reused-key-1"}
    async with client(web_app) as c:
        first = await c.post("/api/v1/requests/billing", json=factories.billing(), headers=headers)
        second = await c.post(
            "/api/v1/requests/access_own",
            json=factories.own_records(received_at=factories.received(1)),
            headers=headers,
        )
        again = await c.post("/api/v1/requests/billing", json=factories.billing(), headers=headers)
    assert first.status_code == 201, first.text
    assert second.status_code == 422
    assert [(e["field"], e["code"]) for e in second.json()["errors"]] == [
        ("idempotency_key", "key_reused")
    ]
    with session_scope(web_db) as session:
        kept = session.get(IntakeSubmission, second.json()["submission_id"])
        assert kept is not None and kept.payload["kind"] == "access_own"
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["tracking_number"] == first.json()["tracking_number"]


@pytest.mark.parametrize("number", ["1e999999", "-1e999999", "1.5e400"])
async def test_a_number_too_large_is_refused_by_field_and_the_submission_kept(
    number: str, web_app: FastAPI, api_token: str, web_db: str
) -> None:
    """Found by the attack on the running app: these answered 500 and the submission was lost."""
    body = json.dumps(factories.own_records()).replace('"MRN-0000001"', number).encode()
    headers = {"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"}
    response = await send_raw(web_app, "POST", URL, headers, body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert {"field": "patient.mrn", "code": "number_out_of_range"} in [
        {"field": e["field"], "code": e["code"]} for e in answer["errors"]
    ]
    with session_scope(web_db) as session:
        kept = session.get(IntakeSubmission, answer["submission_id"])
    assert kept is not None and kept.payload["patient"]["mrn"] is None
    assert kept.payload["patient"]["last_name"] == "Testpatient"
