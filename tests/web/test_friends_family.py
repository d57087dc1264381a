"""Staff and the patient's friends-and-family agreements (164.510(b)): on a request page of
that patient (matched by the patient key the release checks use) staff see the agreements in
force, and the family call check answers "may be told ... until ..." for a named person, and
"no authorization on file" for anyone else or once an agreement has ended; each check is an
audit row (who, which request, the answer) that never names the caller. Staff of another site
get 403. A photo ID sent with the own-records request is listed and served without its EXIF."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select
from sqlmodel import col

from portal import uploads
from services import friends_family, intake
from store.db import session_scope
from store.models import RequestEvent
from tests import factories
from tests.harness import Harness
from tests.portal.upload_samples import jpeg_with_gps
from tests.web.conftest import Staff
from tests.web.helpers import csrf as csrf_of
from tests.web.helpers import sign_in

PATIENT = {
    "first_name": "Rafaela",
    "last_name": "Testkin",
    "date_of_birth": "1958-07-21",
}


def _agreement(person: str, ends_on: str | None, **more: object) -> dict[str, object]:
    return {
        "kind": "friends_family",
        "site": "minnesota",
        "channel": "portal",
        "language": "en",
        "patient": PATIENT,
        "signer": {"relationship": "self"},
        "persons": [{"name": person, "relationship": "daughter", "phone": "507-555-0150"}],
        "scopes": ["condition", "appointments"],
        "ends_on": ends_on,
        "until_revoked": ends_on is None,
        "signature_name": "Rafaela Testkin",
        "confirmed": True,
        **more,
    }


async def test_staff_see_the_agreement_and_check_a_family_call(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    db = web_worker.database_url
    clean = uploads.clean(jpeg_with_gps(), 10_000_000)
    received = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    own = factories.own_records(received_at=received)
    own["patient"] = {**PATIENT, "mrn": "MRN-0000777"}
    own["requester"] = {**own["requester"], "first_name": "Rafaela", "last_name": "Testkin"}
    result = await intake.submit(
        own,
        database_url=db,
        client=web_worker.client,
        task_queue=web_worker.task_queue,
        source="portal",
        uploads=[intake.UploadedDocument("photo_id", clean.media_type, clean.content)],
    )
    assert result.accepted, result.errors
    rid = result.request_id or ""
    future = (date.today() + timedelta(days=400)).isoformat()
    current = friends_family.submit(
        _agreement("Marisol Testkin", future), database_url=db, source="portal"
    )
    ended = friends_family.submit(
        _agreement("Teodoro Testkin", (date.today() - timedelta(days=3)).isoformat()),
        database_url=db,
        source="portal",
        today=date.today() - timedelta(days=30),  # signed a month ago, ended three days ago
    )
    assert current.accepted and ended.accepted, (current.errors, ended.errors)

    spec = await sign_in(web_app, staff.names["specialist"])
    try:
        page = ""
        for _ in range(100):  # the workflow projects its row first
            answer = await spec.get(f"/requests/{rid}")
            if answer.status_code == 200:
                page = answer.text
                break
            await asyncio.sleep(0.05)
        assert "Friends and family (164.510(b))" in page
        assert "Marisol Testkin (daughter, 507-555-0150)" in page
        assert "condition and treatment, appointments" in page
        assert "Teodoro Testkin" not in page  # ended: not in force
        assert "photo id (image/jpeg" in page
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answers = {}
        for caller in ("  marisol TESTKIN ", "Someone Else", "Teodoro Testkin"):
            checked = await spec.post(
                f"/requests/{rid}/family-check",
                data={"csrf_token": csrf, "caller_name": caller, "caller_relationship": "daughter"},
            )
            assert checked.status_code == 200
            answers[caller] = checked.text.split('id="family-check-answer"', 1)[1].split("</p>")[0]
        upload_href = page.split('href="/requests/' + rid + "/uploads/", 1)[1].split('"', 1)[0]
        served = await spec.get(f"/requests/{rid}/uploads/{upload_href}")
    finally:
        await spec.aclose()
    may = answers["  marisol TESTKIN "]
    assert "May be told:" in may and "condition and treatment, appointments" in may
    assert f"until {date.fromisoformat(future).strftime('%Y')}" in may or future[:4] in may
    assert "No authorization on file for this caller" in answers["Someone Else"]
    assert "No authorization on file for this caller" in answers["Teodoro Testkin"]
    assert served.status_code == 200
    with Image.open(BytesIO(served.content)) as photo:
        assert not photo.getexif() and "exif" not in photo.info
    assert b"PhoneMaker" not in served.content

    with session_scope(db) as session:
        checks = (
            session.execute(
                select(RequestEvent)
                .where(
                    col(RequestEvent.request_id) == rid,
                    col(RequestEvent.action) == "family_call.checked",
                )
                .order_by(col(RequestEvent.at))
            )
            .scalars()
            .all()
        )
        assert [c.detail["answer"] for c in checks] == [
            "may_be_told",
            "no_authorization",
            "no_authorization",
        ]
        assert all(c.actor == staff.ids["specialist"] for c in checks)
        assert checks[0].detail["authorization"] == current.authorization_id
        dumped = json.dumps([c.detail for c in checks]).lower()
        assert "marisol" not in dumped and "someone" not in dumped and "teodoro" not in dumped

    other = await sign_in(web_app, staff.names["specialist_az"])
    try:
        assert (await other.get(f"/requests/{rid}")).status_code == 403
        refused = await other.post(
            f"/requests/{rid}/family-check",
            data={"csrf_token": await csrf_of(other), "caller_name": "Marisol Testkin"},
        )
        assert refused.status_code == 403  # the site check, past a valid CSRF token
        assert "Marisol" not in refused.text
    finally:
        await other.aclose()

    # the patient asks to end it: the specialist ends it from the page, the next call is "no"
    spec = await sign_in(web_app, staff.names["specialist"])
    try:
        page = (await spec.get(f"/requests/{rid}")).text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        action = f"/requests/{rid}/family/{current.authorization_id}/revoke"
        assert f'action="{action}"' in page
        ended_now = await spec.post(action, data={"csrf_token": csrf})
        assert ended_now.status_code == 303
        again = await spec.post(action, data={"csrf_token": csrf})  # already ended: nothing
        assert again.status_code == 303
        checked = await spec.post(
            f"/requests/{rid}/family-check",
            data={"csrf_token": csrf, "caller_name": "Marisol Testkin"},
        )
        assert "No authorization on file for this caller" in checked.text
        assert "Marisol Testkin (daughter" not in (await spec.get(f"/requests/{rid}")).text
    finally:
        await spec.aclose()
    with session_scope(db) as session:
        revoked = (
            session.execute(
                select(RequestEvent).where(
                    col(RequestEvent.request_id) == rid,
                    col(RequestEvent.action) == "family_authorization.revoked",
                )
            )
            .scalars()
            .all()
        )
        assert [(r.actor, r.detail["authorization"]) for r in revoked] == [
            (staff.ids["specialist"], current.authorization_id)
        ]
