"""The status page of a deficient request (what is missing, in the patient's language, and the
corrected form sent right there, for staff to review), and released records downloaded from
the portal (`/records/<token>`: the date of birth, then a mailed code). PostgreSQL, the
portal over HTTP; rows are made directly so no workflow moves them under the test."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from activities.channels.dispatch import Channels
from config.redact import RedactSecrets
from services import links as link_service
from store import links
from store import portal as portal_rows
from store.db import session_scope
from store.models import (
    DownloadAccess,
    IntakeSubmission,
    Notification,
    RecordRequest,
    RequestEvent,
    SecurityEvent,
)
from tests.harness import Harness
from tests.portal.conftest import make_portal
from tests.portal.helpers import client, hidden
from tests.portal.third_party_helpers import latest_code
from tests.portal.upload_samples import jpeg_with_gps, small_pdf

DOB = date(1981, 3, 9)
EMAIL = "rowan.testpatient@example.org"


def _request(database_url: str, *, status: str, summary: dict[str, object] | None) -> str:
    """A request row and the submission it came from; its tracking number."""
    request_id = uuid.uuid4().hex[:26]
    tracking = f"ROI-{request_id[:5].upper()}-{request_id[5:10].upper()}"
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        session.add(
            RecordRequest(
                id=request_id,
                workflow_id=f"roi-{request_id}",
                tracking_number=tracking,
                kind="third_party",
                site="minnesota",
                channel="portal",
                language="en",
                status=status,
                delivery_method="email_link",
                received_at=now,
                due_at=now + timedelta(days=30),
                original_due_date=now.date(),
                due_date=now.date() + timedelta(days=30),
                patient_name="Testpatient, Rowan",
                patient_dob=DOB,
                requester_name="Rowan Testpatient",
                recipient_name="Rowan Testpatient",
                summary=summary,
            )
        )
        session.add(
            IntakeSubmission(  # type: ignore[call-arg]
                id=uuid.uuid4().hex[:26],
                received_at=now,
                channel="portal",
                source="portal",
                payload={"requester": {"contact": {"email": EMAIL}}},
                outcome="accepted",
                request_id=request_id,
                tracking_number=tracking,
            )
        )
    return request_id


async def _lookup(c: httpx.AsyncClient, tracking: str, dob: str, lang: str) -> httpx.Response:
    page = await c.get(f"/status?lang={lang}")
    data = {"csrf_token": hidden(page.text, "csrf_token"), "lang": lang}
    return await c.post("/status", data={**data, "tracking_number": tracking, "date_of_birth": dob})


DEFICIENCIES = {
    "deficiencies": [
        {"field": "authorization.purpose", "code": "purpose_missing", "message": "x"},
        {"field": "authorization.signed", "code": "signature_missing", "message": "x"},
        {"field": "authorization", "code": "some_new_check", "message": "x"},
    ]
}


async def test_a_deficient_request_names_what_is_missing_and_takes_the_corrected_form(
    portal_app: FastAPI, portal_db: str
) -> None:
    request_id = _request(portal_db, status="deficient", summary=DEFICIENCIES)
    with session_scope(portal_db) as session:
        tracking = session.get(RecordRequest, request_id).tracking_number  # type: ignore[union-attr]
    async with client(portal_app, "198.51.100.61") as c:
        arabic = await _lookup(c, tracking, DOB.isoformat(), "ar")
        assert arabic.status_code == 200, arabic.text[-800:]
        assert "يجب أن يذكر النموذج سبب الإفصاح عن السجلات" in arabic.text  # the purpose
        assert "يجب أن يكون النموذج موقّعًا." in arabic.text  # the signature
        assert "جزء من النموذج ناقص" in arabic.text  # an unknown code: the general sentence
        spanish = await _lookup(c, tracking, DOB.isoformat(), "es")
        assert "El formulario debe estar firmado." in spanish.text
        assert "El formulario debe decir para qué se entregan" in spanish.text
        assert 'id="correction-form"' in spanish.text
        wrong = await _lookup(c, tracking, "1981-03-10", "es")
        assert wrong.status_code == 404 and "correction-form" not in wrong.text
        # a file that is not a PDF, JPEG or PNG: the error at the field, nothing kept
        form = {
            "csrf_token": hidden(spanish.text, "csrf_token"),
            "lang": "es",
            "correction": hidden(spanish.text, "correction"),
        }
        refused = await c.post(
            "/status/correction",
            data=form,
            files={"corrected_file": ("form.pdf", b"<html>not a pdf</html>", "application/pdf")},
        )
        assert refused.status_code == 422 and 'id="corrected_file-error"' in refused.text
        forged = await c.post(
            "/status/correction",
            data={**form, "correction": "x" + form["correction"]},
            files={"corrected_file": ("form.pdf", small_pdf(), "application/pdf")},
        )
        assert forged.status_code == 403
        sent = await c.post(
            "/status/correction",
            data=form,
            files={"corrected_file": ("form.jpg", jpeg_with_gps(), "image/jpeg")},
        )
        assert sent.status_code == 200, sent.text[-800:]
        assert "Recibimos su formulario corregido" in sent.text
        # five forms a day per request (the refused one counted too), then a wait
        for expected in (200, 200, 200, 429):
            more = await c.post(
                "/status/correction",
                data=form,
                files={"corrected_file": ("form.pdf", small_pdf(), "application/pdf")},
            )
            assert more.status_code == expected
    with session_scope(portal_db) as session:
        kept = portal_rows.uploads_for_request(session, request_id)  # the staff request page
        events = session.execute(
            select(RequestEvent.action).where(col(RequestEvent.request_id) == request_id)
        ).all()
        notes = session.execute(
            select(Notification.kind, Notification.audience).where(
                col(Notification.request_id) == request_id
            )
        ).all()
        row = session.get(RecordRequest, request_id)
    assert [(u.kind, u.media_type) for u in kept] == [
        ("corrected_authorization", "image/jpeg"),
        *[("corrected_authorization", "application/pdf")] * 3,
    ]
    assert [e[0] for e in events].count("authorization.correction_uploaded") == 4
    assert [tuple(n) for n in notes] == [("correction_uploaded", "assignee")] * 4
    assert row is not None and row.status == "deficient"  # staff apply it, not the portal


@dataclass
class Released:
    request_id: str
    link_id: str
    token: str


def _released(app: FastAPI, database_url: str, tmp: Path, *, ttl: timedelta) -> Released:
    request_id = _request(database_url, status="completed", summary=None)
    package = tmp / f"{request_id}.pdf"
    package.write_bytes(small_pdf())
    link = links.create_link(
        database_url,
        delivery_key=f"{request_id}-deliver-1",
        request_id=request_id,
        patient_key=None,
        package_path=str(package),
        content_type="application/pdf",
        now=datetime.now(UTC) - timedelta(days=1),
        ttl=ttl,
    )
    token = link_service.token_of(app.state.ctx.settings.link_secret, link.id)
    return Released(request_id, link.id, token)


@pytest.fixture(scope="module")
def records_app(portal_db: str, portal_env: WorkflowEnvironment, portal_worker: Harness) -> FastAPI:
    return make_portal(portal_db, portal_env, portal_worker)


async def _dob(c: httpx.AsyncClient, token: str, dob: str) -> httpx.Response:
    page = await c.get(f"/records/{token}?lang=en")
    assert page.status_code == 200, page.text[-500:]
    data = {"csrf_token": hidden(page.text, "csrf_token"), "lang": "en", "date_of_birth": dob}
    return await c.post(f"/records/{token}", data=data)


async def test_released_records_after_the_date_of_birth_and_the_mailed_code(
    records_app: FastAPI, portal_db: str, portal_worker: Harness, tmp_path: Path
) -> None:
    released = _released(records_app, portal_db, tmp_path, ttl=timedelta(days=30))
    token = released.token
    async with client(records_app, "198.51.100.62") as c:
        before = await c.get(f"/records/{token}/file")
        assert before.status_code == 303  # nothing without both answers
        wrong = await _dob(c, token, "1981-03-10")
        assert wrong.status_code == 403 and "does not match" in wrong.text
        asked = await _dob(c, token, DOB.isoformat())
        assert asked.status_code == 200 and 'id="code-sent"' in asked.text
        assert (await c.get(f"/records/{token}/file")).status_code == 303  # no code yet
        csrf = hidden(asked.text, "csrf_token")
        code = latest_code(portal_worker.outbox, EMAIL)
        other = f"{(int(code) + 1) % 1_000_000:06d}"
        bad = await c.post(f"/records/{token}/code", data={"csrf_token": csrf, "code": other})
        assert bad.status_code == 403 and "not right" in bad.text
        good = await c.post(f"/records/{token}/code", data={"csrf_token": csrf, "code": code})
        assert good.status_code == 200 and 'id="records-download"' in good.text
        served = await c.get(f"/records/{token}/file")
        assert served.status_code == 200 and served.content.startswith(b"%PDF")
        assert served.headers["content-type"] == "application/pdf"
    async with client(records_app, "198.51.100.63") as elsewhere:  # another device: asked again
        assert (await elsewhere.get(f"/records/{token}/file")).status_code == 303
        assert 'name="date_of_birth"' in (await elsewhere.get(f"/records/{token}")).text
    with session_scope(portal_db) as session:
        items = session.execute(
            select(DownloadAccess.outcome, DownloadAccess.item)
            .where(col(DownloadAccess.link_id) == released.link_id)
            .order_by(col(DownloadAccess.id))
        ).all()
        failures = session.execute(
            select(SecurityEvent.detail).where(col(SecurityEvent.action) == "portal.records")
        ).all()
    seen = [tuple(i) for i in items]
    assert ("dob_wrong", "records:dob") in seen and ("confirmed", "records:dob") in seen
    assert seen[-2][1] == "records:file" and seen[-2][0] in link_service.SERVED
    reasons = {(d[0] or {}).get("reason") for d in failures}
    assert {"date_of_birth", "code"} <= reasons
    assert all(code not in str(d) for d in failures)


async def test_expired_and_revoked_links_are_refused(
    records_app: FastAPI, portal_db: str, tmp_path: Path
) -> None:
    expired = _released(records_app, portal_db, tmp_path, ttl=timedelta(hours=1))
    revoked = _released(records_app, portal_db, tmp_path, ttl=timedelta(days=30))
    with session_scope(portal_db) as session:
        link_service.revoke(
            session, request_id=revoked.request_id, actor="staff", at=datetime.now(UTC)
        )
    async with client(records_app, "198.51.100.64") as c:
        gone = await c.get(f"/records/{expired.token}?lang=es")
        assert gone.status_code == 410 and "Los enlaces de descarga" in gone.text
        withdrawn = await c.get(f"/records/{revoked.token}?lang=en")
        assert withdrawn.status_code == 410 and "withdrawn" in withdrawn.text
        assert (await c.get(f"/records/{revoked.token}x")).status_code == 404


def test_the_email_link_opens_the_portal_only_when_its_address_is_configured(
    tmp_path: Path,
) -> None:
    def channels(**kwargs: object) -> Channels:
        return Channels(
            "postgresql://unused",
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            link_secret="s",
            base_url="https://roi.example/",
            **kwargs,  # type: ignore[arg-type]
        )

    today = channels(portal_base_url="http://127.0.0.1:8001")
    assert today.link_url("T") == "https://roi.example/download/T"
    portal = channels(portal_base_url="https://portal.example", records_on_portal=True)
    assert portal.link_url("T") == "https://portal.example/records/T"
    assert portal.link_url("T", study_page=True) == "https://portal.example/imaging/T"


def test_the_records_token_is_redacted_from_the_access_log() -> None:
    token = links.LinkSigner("secret").token("01HZYX0000000000000000TEST")
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("198.51.100.9:5000", "GET", f"/records/{token}/file?lang=ar", "1.1", 200),
        None,
    )
    RedactSecrets().filter(record)
    line = record.getMessage()
    assert token not in line and "lang=ar" not in line
    assert '"GET /records/[redacted] HTTP/1.1" 200' in line
    assert re.search(r"/records/\S*Ij", line) is None
