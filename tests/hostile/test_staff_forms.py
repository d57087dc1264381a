"""Hostile text in the staff forms, through the web app to a real workflow: a note, a
cancellation reason. Each is recorded exactly as typed and shown escaped, or refused next to its
field; a NUL byte or broken UTF-8 never reaches the workflow (where writing the audit row would
fail, and retry, forever)."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from domain.text import is_storable
from store.db import session_scope
from store.models import RecordRequest, RequestEvent
from tests import factories
from tests.hostile.test_unicode_fields import HOSTILE
from tests.web.conftest import Staff
from tests.web.helpers import client, csrf, sign_in

#: Raw form encodings a browser would never send but a hostile client can.
RAW_TEXT = {
    "NUL": "a%00b",
    "invalid UTF-8": "caf%FF",
    "encoded surrogate": "x%ED%A0%80y",
}


async def _open_request(web_app: FastAPI, web_db: str, api_token: str) -> str:
    async with client(web_app) as c:
        response = await c.post(
            "/api/v1/requests/access_own",
            json=factories.own_records(received_at=factories.received(1)),
            headers={"Authorization": f"Bearer {api_token}"},
        )
    assert response.status_code == 201, response.text
    request_id = response.json()["request_id"]
    for _ in range(300):
        with session_scope(web_db) as session:
            if session.get(RecordRequest, request_id) is not None:
                return request_id
        await asyncio.sleep(0.05)
    raise AssertionError("the request never reached the read model")


@pytest.fixture(scope="module")
async def request_id(web_app: FastAPI, web_db: str, api_token: str) -> str:
    return await _open_request(web_app, web_db, api_token)


def _notes(web_db: str, request_id: str) -> list[str]:
    with session_scope(web_db) as session:
        rows = session.execute(
            select(RequestEvent)
            .where(RequestEvent.request_id == request_id, RequestEvent.action == "note.added")
            .order_by(RequestEvent.id)
        ).scalars()
        return [str((row.detail or {}).get("text")) for row in rows]


async def test_hostile_notes_are_recorded_as_typed_or_refused(
    web_app: FastAPI, web_db: str, staff: Staff, request_id: str
) -> None:
    signed = await sign_in(web_app, staff.names["specialist"])
    token = await csrf(signed)
    url = f"/requests/{request_id}/actions/add_note"
    sent: list[str] = []
    for text in HOSTILE:
        body = f"csrf_token={quote(token)}&text={quote(text.encode('utf-8', 'surrogatepass'))}"
        response = await signed.post(
            url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code in (303, 422), (text[:20], response.status_code)
        if response.status_code == 303 and is_storable(text):
            sent.append(text.strip())
        if "\x00" in text:
            assert response.status_code == 422 and "cannot be stored" in response.text
        elif not is_storable(text):
            sent.append("?")  # a browser form decodes broken UTF-8 with replacement characters
    for name, raw in RAW_TEXT.items():
        body = f"csrf_token={quote(token)}&text={raw}"
        response = await signed.post(
            url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code in (303, 422), (name, response.status_code)
        if response.status_code == 303:
            sent.append("?")  # decoded with replacement characters, stored safely
    assert any(text != "?" for text in sent), "no hostile note was accepted: nothing checked"
    recorded = _notes(web_db, request_id)
    for text in sent:
        if text != "?":
            assert text in recorded, f"note {text[:20]!r} was not recorded as typed"
    assert all("\x00" not in note for note in recorded)
    page = await signed.get(f"/requests/{request_id}")
    await signed.aclose()
    supervisor = await sign_in(web_app, staff.names["supervisor"])
    audit = await supervisor.get(f"/requests/{request_id}/audit")
    await supervisor.aclose()
    assert page.status_code == 200 and audit.status_code == 200
    assert "<script>alert(1)</script>" not in page.text + audit.text, "shown escaped"


async def test_a_nul_byte_in_a_reason_is_refused_next_to_its_field(
    web_app: FastAPI, web_db: str, staff: Staff, api_token: str
) -> None:
    request_id = await _open_request(web_app, web_db, api_token)
    signed = await sign_in(web_app, staff.names["specialist"])
    token = await csrf(signed)
    response = await signed.post(
        f"/requests/{request_id}/actions/cancel",
        content=f"csrf_token={quote(token)}&reason=withdrawn%00by%20phone",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "cannot be stored" in response.text
    response = await signed.post(
        f"/requests/{request_id}/actions/cancel",
        content=f"csrf_token={quote(token)}&reason=%E2%80%8Fwithdrawn%20by%20phone",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    await signed.aclose()
    assert response.status_code == 303, response.text[:300]
    with session_scope(web_db) as session:
        row = session.get(RecordRequest, request_id)
        assert row is not None
    for _ in range(200):
        with session_scope(web_db) as session:
            row = session.get(RecordRequest, request_id)
            if row is not None and row.status == "cancelled":
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the cancellation with a right-to-left mark never took effect")
