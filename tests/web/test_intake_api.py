"""The intake API: one POST per kind, field-level 422s, idempotency, credentials, OpenAPI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select

from app.accounts import create_api_token, revoke_api_token
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest
from tests import factories
from tests.web.conftest import Staff
from tests.web.helpers import client, csrf, sign_in


def _now_minus(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


async def _projected(database_url: str, request_id: str) -> RecordRequest:
    for _ in range(200):
        with session_scope(database_url) as session:
            row = session.get(RecordRequest, request_id)
            if row is not None:
                session.expunge(row)
                return row
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow never projected its row")


async def test_submit_with_a_token_is_idempotent(web_app: FastAPI, web_db: str) -> None:
    token = create_api_token(web_db, "patient-portal-test")
    body = factories.own_records(received_at=_now_minus(1))
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "portal-42"}
    async with client(web_app) as c:
        first = await c.post("/api/v1/requests/access_own", json=body, headers=headers)
        again = await c.post("/api/v1/requests/access_own", json=body, headers=headers)
        other_key = await c.post(
            "/api/v1/requests/access_own",
            json=body,
            headers={**headers, "Idempotency-Key": "portal-43"},
        )
    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["tracking_number"] == first.json()["tracking_number"]
    assert other_key.json()["tracking_number"] != first.json()["tracking_number"]
    row = await _projected(web_db, first.json()["request_id"])
    assert row.tracking_number == first.json()["tracking_number"] and row.kind == "access_own"
    with session_scope(web_db) as session:
        stored = session.execute(
            select(IntakeSubmission).where(IntakeSubmission.request_id == row.id)
        ).scalar_one()
        assert stored.source == "api"


async def test_each_kind_has_its_endpoint(web_app: FastAPI, web_db: str) -> None:
    token = create_api_token(web_db, "fax-gateway-test")
    auth = {"Authorization": f"Bearer {token}"}
    async with client(web_app) as c:
        third = await c.post(
            "/api/v1/requests/third_party",
            headers=auth,
            json=factories.third_party(received_at=_now_minus(2)),
        )
        imaging = await c.post(
            "/api/v1/requests/imaging",
            headers=auth,
            json=factories.imaging_fedex(received_at=_now_minus(2)),
        )
        mismatch = await c.post(
            "/api/v1/requests/imaging",
            headers=auth,
            json=factories.own_records(received_at=_now_minus(2)),
        )
    assert third.status_code == 201 and imaging.status_code == 201
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"] == [
        {"field": "kind", "code": "kind_mismatch", "message": "This endpoint takes kind imaging."}
    ]


async def test_field_level_errors(web_app: FastAPI, web_db: str) -> None:
    token = create_api_token(web_db, "errors-test")
    auth = {"Authorization": f"Bearer {token}"}
    bad = factories.own_records(received_at=_now_minus(1), delivery_method="fedex")
    del bad["patient"]["date_of_birth"]
    bad["requester"]["contact"]["email"] = "not-an-email"
    async with client(web_app) as c:
        r = await c.post("/api/v1/requests/access_own", headers=auth, json=bad)
        malformed = await c.post(
            "/api/v1/requests/access_own",
            headers=auth,
            content=b"{not json",
        )
        not_object = await c.post("/api/v1/requests/access_own", headers=auth, json=[1, 2])
        bad_key = await c.post(
            "/api/v1/requests/access_own", json=bad, headers={**auth, "Idempotency-Key": "x" * 101}
        )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"patient.date_of_birth", "requester.contact.email"} <= fields
    assert r.json()["submission_id"]  # kept for staff even though rejected
    assert "Testpatient" not in r.text  # messages never echo what was sent
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "body"
    assert not_object.status_code == 422
    assert bad_key.status_code == 422 and bad_key.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_credentials(web_app: FastAPI, web_db: str, staff: Staff) -> None:
    token = create_api_token(web_db, "revoked-test")
    revoke_api_token(web_db, "revoked-test")
    body = factories.own_records(received_at=_now_minus(1))
    async with client(web_app) as c:
        assert (await c.post("/api/v1/requests/access_own", json=body)).status_code == 401
        for bad in (token, "roi_madeup", "garbage"):
            r = await c.post(
                "/api/v1/requests/access_own", json=body, headers={"Authorization": f"Bearer {bad}"}
            )
            assert r.status_code == 401
    # Staff keying in a phone request: the session plus the CSRF header; site restriction holds.
    az = await sign_in(web_app, staff.names["specialist_az"])
    r = await az.post(
        "/api/v1/requests/access_own", json=body, headers={"X-CSRF-Token": await csrf(az)}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "site_not_allowed"
    spec = await sign_in(web_app, staff.names["specialist"])
    r = await spec.post(
        "/api/v1/requests/access_own",
        json={**body, "channel": "phone"},
        headers={"X-CSRF-Token": await csrf(spec), "Idempotency-Key": "call-1"},
    )
    assert r.status_code == 201
    # Keys are per caller: the same key from a token client is a different request.
    token2 = create_api_token(web_db, "other-client")
    async with client(web_app) as c:
        other = await c.post(
            "/api/v1/requests/access_own",
            json=body,
            headers={"Authorization": f"Bearer {token2}", "Idempotency-Key": "call-1"},
        )
    assert other.status_code == 201
    assert other.json()["tracking_number"] != r.json()["tracking_number"]
    await az.aclose()
    await spec.aclose()


async def test_openapi_documents_the_intake(web_app: FastAPI) -> None:
    async with client(web_app) as c:
        spec = (await c.get("/openapi.json")).json()
        docs = await c.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    for kind in ("access_own", "third_party", "imaging"):
        post = spec["paths"][f"/api/v1/requests/{kind}"]["post"]
        assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "RecordRequestSubmission"
        )
        assert {"201", "200", "401", "422"} <= set(post["responses"])
        assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    schemas = spec["components"]["schemas"]
    assert "patient" in schemas["RecordRequestSubmission"]["properties"]
    assert "Patient" in schemas and "Authorization" in schemas
    assert not any(path.startswith("/requests") for path in spec["paths"])  # staff pages stay out
