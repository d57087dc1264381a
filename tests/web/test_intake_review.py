"""Submissions refused at intake are kept for staff review: listed for their site's and team's
staff in plain words, corrected and submitted with their original receipt time. An
Idempotency-Key reused with another body answers 422 and keeps the new submission there."""

from __future__ import annotations

import asyncio
import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.accounts import create_api_token
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest, RequestEvent
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import client, csrf, sign_in


def _received(hours: float) -> datetime:
    return (datetime.now(UTC) - timedelta(hours=hours)).replace(microsecond=0)


def _stored(database_url: str, submission_id: str) -> IntakeSubmission:
    with session_scope(database_url) as session:
        row = session.get(IntakeSubmission, submission_id)
        assert row is not None
        session.expunge(row)
        return row


async def _post(c: httpx.AsyncClient, sid: str, body: dict[str, Any] | str) -> httpx.Response:
    text = body if isinstance(body, str) else json.dumps(body)
    return await c.post(
        f"/intake/review/{sid}", data={"csrf_token": await csrf(c), "submission": text}
    )


async def test_a_refused_submission_is_corrected_with_its_original_receipt_time(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    received = _received(50)
    data = factories.own_records(received_at=received.isoformat())
    data["patient"] = {**data["patient"], "date_of_birth": "1984-02-31"}
    refused = await web_worker.submit(data)
    assert not refused.accepted
    sid = refused.submission_id

    spec = await sign_in(web_app, staff.names["specialist"])
    listing = (await spec.get("/intake/review")).text
    assert f'data-submission="{sid}"' in listing
    assert "Patient › date of birth" in listing and "Use a date like 2026-12-31." in listing
    assert "Input should be" not in listing  # never the validator's own words
    for other in ("specialist_az", "amendment"):  # another site; another team
        c = await sign_in(web_app, staff.names[other])
        assert f'data-submission="{sid}"' not in (await c.get("/intake/review")).text
        assert (await c.get(f"/intake/review/{sid}")).status_code == 403
        await c.aclose()

    page = (await spec.get(f"/intake/review/{sid}")).text
    assert "1984-02-31" in page and "received_at" not in page.split("<textarea")[1]
    bad = await _post(spec, sid, "{not json")
    assert bad.status_code == 422 and "not valid JSON" in bad.text
    still = {k: v for k, v in data.items() if k != "received_at"}
    still_bad = await _post(spec, sid, {**still, "delivery_method": "carrier-pigeon"})
    assert still_bad.status_code == 422
    assert "Choose one of the listed options." in still_bad.text
    assert _stored(web_worker.database_url, sid).outcome == "rejected"  # still kept

    fixed = {**still, "patient": {**data["patient"], "date_of_birth": "1984-02-28"}}
    done = await _post(spec, sid, fixed)
    assert done.status_code == 303
    original = _stored(web_worker.database_url, sid)
    assert original.outcome == "corrected" and original.request_id
    with session_scope(web_worker.database_url) as session:
        new = session.execute(
            select(IntakeSubmission).where(
                IntakeSubmission.request_id == original.request_id,
                IntakeSubmission.id != sid,
            )
        ).scalar_one()
        assert new.received_at == received and new.source == "staff"
        [event] = session.execute(
            select(RequestEvent).where(
                RequestEvent.request_id == original.request_id,
                RequestEvent.action == "intake.corrected",
            )
        ).scalars()
        assert event.actor == staff.ids["specialist"] and event.detail == {"submission": sid}
    for _ in range(200):  # its workflow runs, with the clock from the original receipt
        with session_scope(web_worker.database_url) as session:
            row = session.get(RecordRequest, original.request_id)
            if row is not None:
                assert row.received_at == received
                break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the corrected request never started")
    listing = (await spec.get("/intake/review")).text
    assert f'data-submission="{sid}"' not in listing
    again = await _post(spec, sid, fixed)  # corrected once only
    assert again.status_code == 303
    await spec.aclose()


async def test_a_key_reused_with_another_body_is_kept_for_review(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    token = create_api_token(web_db, "portal-review-test")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "portal-reuse-1"}
    first_body = factories.own_records(received_at=_received(2).isoformat())
    second_body = factories.own_records(received_at=_received(1).isoformat())
    second_body["records"] = {"description": "Only the discharge summary"}
    async with client(web_app) as c:
        first = await c.post("/api/v1/requests/access_own", json=first_body, headers=headers)
        retry = await c.post("/api/v1/requests/access_own", json=first_body, headers=headers)
        second = await c.post("/api/v1/requests/access_own", json=second_body, headers=headers)
    assert first.status_code == 201 and retry.status_code == 200  # a true retry: the same
    assert second.status_code == 422
    assert [(e["field"], e["code"]) for e in second.json()["errors"]] == [
        ("idempotency_key", "key_reused")
    ]
    kept = _stored(web_db, second.json()["submission_id"])
    assert kept.outcome == "rejected" and kept.idempotency_key is None
    assert kept.payload["records"]["description"] == "Only the discharge summary"

    spec = await sign_in(web_app, staff.names["specialist"])
    listing = (await spec.get("/intake/review")).text
    assert f'data-submission="{kept.id}"' in listing
    page = (await spec.get(f"/intake/review/{kept.id}")).text
    text = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert text
    body = json.loads(html.unescape(text.group(1)))
    done = await _post(spec, kept.id, body)  # nothing to fix: submitted as it came
    assert done.status_code == 303
    assert _stored(web_db, kept.id).outcome == "corrected"
    await spec.aclose()
