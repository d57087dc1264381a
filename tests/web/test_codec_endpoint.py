"""The Temporal UI's codec endpoint: supervisors open sealed payloads, nobody else does, and
every decode is a security event and an audit row on the request whose data was opened."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from google.protobuf import json_format
from sqlalchemy import select
from temporalio.api.common.v1 import Payload, Payloads

from config.codec import codec_from
from store.db import session_scope
from store.models import RequestEvent, SecurityEvent
from tests.web.conftest import Staff
from tests.web.helpers import client, insert_request, sign_in

UI = "http://localhost:8233"
NAME = "Oluwaseun Brightwater"


async def _sealed_body(request_id: str) -> str:
    state = f'{{"request_id": "{request_id}", "patient": {{"last_name": "{NAME}"}}}}'
    plain = Payload(metadata={"encoding": b"json/plain"}, data=state.encode())
    sealed = await codec_from(None).encode([plain])  # the tests' settings: the built-in key
    return json_format.MessageToJson(Payloads(payloads=sealed))


@pytest.mark.parametrize("role", ["supervisor", "privacy"])
async def test_supervisor_and_privacy_officer_decode_and_it_is_recorded(
    role: str, web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    request_id = insert_request(web_db)
    body = await _sealed_body(request_id)
    sup = await sign_in(web_app, staff.names[role])
    response = await sup.post(
        "/codec/decode",
        content=body,
        headers={"content-type": "application/json", "origin": UI, "x-namespace": "default"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == UI
    assert response.headers["access-control-allow-credentials"] == "true"
    opened = json_format.Parse(response.content, Payloads())
    assert NAME.encode() in opened.payloads[0].data
    with session_scope(web_db) as session:
        event = session.execute(
            select(SecurityEvent)
            .where(SecurityEvent.actor == staff.ids[role])
            .where(SecurityEvent.action == "codec.decode")
        ).scalar_one()
        audited = session.execute(
            select(RequestEvent)
            .where(RequestEvent.request_id == request_id)
            .where(RequestEvent.action == "payloads_decoded")
        ).scalar_one()
    assert event.outcome == "ok" and event.detail["requests"] == [request_id]
    assert audited.actor == staff.ids[role]
    assert NAME not in str(event.detail)


async def test_others_get_nothing_decoded(web_app: FastAPI, web_db: str, staff: Staff) -> None:
    body = await _sealed_body(insert_request(web_db))
    headers = {"content-type": "application/json", "origin": UI}
    anonymous = await client(web_app).post("/codec/decode", content=body, headers=headers)
    assert anonymous.status_code == 401
    for role in ("specialist", "admin", "amendment", "integrity"):
        signed = await sign_in(web_app, staff.names[role])
        response = await signed.post("/codec/decode", content=body, headers=headers)
        assert response.status_code == 403, role
        assert NAME not in response.text


async def test_tampered_payload_is_refused_and_recorded(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    sealed = json_format.Parse(await _sealed_body(insert_request(web_db)), Payloads())
    sealed.payloads[0].data = sealed.payloads[0].data[:-1] + b"\x00"
    sup = await sign_in(web_app, staff.names["supervisor"])
    response = await sup.post(
        "/codec/decode",
        content=json_format.MessageToJson(sealed),
        headers={"content-type": "application/json", "origin": UI},
    )
    assert response.status_code == 422
    with session_scope(web_db) as session:
        outcomes = session.execute(
            select(SecurityEvent.outcome).where(SecurityEvent.action == "codec.decode")
        ).scalars()
        assert "failed" in set(outcomes)


async def test_cors_answers_only_the_configured_ui(web_app: FastAPI) -> None:
    c = client(web_app)
    ask = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    allowed = await c.options("/codec/decode", headers={"origin": UI, **ask})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == UI
    other = await c.options("/codec/decode", headers={"origin": "https://evil.example", **ask})
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers
