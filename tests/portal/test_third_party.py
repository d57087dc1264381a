"""The third-party authorization on the portal, against a real PostgreSQL and Temporal test
server: signed with a code mailed through the engine's mail path (read back from the outbox),
it reaches intake with its sealed PDF, and its workflow finds nothing deficient; a wrong or
expired code is refused in the patient's language with everything typed kept; too many codes
for one email address are refused; the sealed PDF validates with pyHanko and a changed byte
breaks it."""

from __future__ import annotations

import asyncio
import base64
import html
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from fastapi import FastAPI
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select, update
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from domain.calendar import local_date
from domain.release_basis import release_basis_issues
from domain.request import parse_submission
from domain.types import Site, Status
from portal import codes, signing
from services.staff import current_state
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest
from store.portal import PortalEmailCode, PortalSignedDocument
from tests.harness import Harness
from tests.portal.conftest import make_portal
from tests.portal.helpers import client, hidden, tracking_number
from tests.portal.third_party_helpers import (
    PATH,
    THIRD_PARTY,
    ask_code,
    latest_code,
    sign_and_send,
)


def _drawn() -> str:
    """A drawn signature as the canvas posts it (a PNG data URL)."""
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).line((20, 150, 200, 60, 380, 140, 580, 50), fill="black", width=4)
    out = BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


#: A guardian signing in Arabic, with a drawing; the patient herself in English.
ARABIC = {
    **THIRD_PARTY,
    "signer": "legal_guardian",
    "requester_first_name": "سارة",
    "requester_last_name": "الأحمد",
    "representative_authority": "وصية عيّنتها محكمة المقاطعة عام 2021",
    "authority_document": "letters_of_guardianship",
    "patient_first_name": "ليلى",
    "patient_last_name": "الأحمد",
    "signer_email": "sara.guardian@example.org",
    "signature_name": "سارة الأحمد",
    "signature_png": _drawn(),
    "delivery": "us_mail",
    "recipient_email": "",
    "recipient_address_line1": "12 Lake Street",
    "recipient_address_city": "Rochester",
    "recipient_address_state": "MN",
    "recipient_address_postal_code": "55901",
}


def _count(database_url: str) -> int:
    with session_scope(database_url) as session:
        return int(session.execute(select(func.count()).select_from(IntakeSubmission)).scalar_one())


async def _projected(database_url: str, tracking: str) -> RecordRequest:
    for _ in range(300):
        with session_scope(database_url) as session:
            row = session.execute(
                select(RecordRequest).where(col(RecordRequest.tracking_number) == tracking)
            ).scalar_one_or_none()
            if row is not None:
                session.expunge(row)
                return row
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow never projected its row")


async def _verify(pdf: bytes) -> tuple[bool, bool]:
    """(intact, valid) of the PDF's one signature, trusting the test's demo certificate."""
    key = signing.sealing_key(Settings(env="test"))
    reader = PdfFileReader(BytesIO(pdf))
    (embedded,) = reader.embedded_signatures
    status = await async_validate_pdf_signature(embedded, ValidationContext(trust_roots=[key.cert]))
    return status.intact, status.valid


@pytest.mark.parametrize(("lang", "values"), [("en", THIRD_PARTY), ("ar", ARABIC)])
async def test_signed_authorization_reaches_intake_and_its_workflow_finds_nothing_deficient(
    portal_app: FastAPI,
    portal_db: str,
    portal_env: WorkflowEnvironment,
    portal_worker: Harness,
    lang: str,
    values: dict[str, str],
) -> None:
    async with client(portal_app, f"192.0.2.{10 + len(lang)}") as c:
        answer = await sign_and_send(c, portal_worker.outbox, lang, values)
    assert answer.status_code == 200, answer.text[-3000:]
    tracking = tracking_number(answer.text)
    with session_scope(portal_db) as session:
        stored = session.execute(
            select(IntakeSubmission).where(col(IntakeSubmission.tracking_number) == tracking)
        ).scalar_one()
        document = session.execute(
            select(PortalSignedDocument).where(col(PortalSignedDocument.submission_id) == stored.id)
        ).scalar_one()
        payload, pdf = stored.payload, bytes(document.content)
        code_row = session.execute(
            select(PortalEmailCode).where(
                col(PortalEmailCode.email_digest) == codes.email_digest(values["signer_email"])
            )
        ).scalar_one()
        assert code_row.used_at is not None  # a code signs once
    assert stored.outcome == "accepted" and payload["kind"] == "third_party"
    # the domain's own check of every 164.508 element finds nothing missing
    now = datetime.now(UTC)
    sub, issues = parse_submission(payload, now)
    assert sub is not None and not issues
    assert release_basis_issues(sub, local_date(Site.MINNESOTA, now)) == []
    assert sub.authorization is not None and sub.authorization.signed
    # ... and so does the workflow, on its own clock
    row = await _projected(portal_db, tracking)
    assert (row.kind, row.language) == ("third_party", lang)
    for _ in range(200):
        state = await current_state(portal_env.client, row.id)
        if state.status != Status.RECEIVED:
            break
        await asyncio.sleep(0.05)
    assert state.deficiencies == [] and state.authorization_valid
    assert state.status != Status.DEFICIENT
    # the sealed PDF: valid, and one changed byte breaks it
    assert await _verify(pdf) == (True, True)
    tampered = bytearray(pdf)
    tampered[pdf.index(b"stream") + 40] ^= 0x01
    intact, valid = await _verify(bytes(tampered))
    assert not (intact and valid)


async def test_wrong_and_expired_codes_are_refused_in_arabic_and_nothing_typed_is_lost(
    portal_app: FastAPI, portal_db: str, portal_worker: Harness
) -> None:
    values = {**ARABIC, "signer_email": "wrong.code@example.org"}
    before = _count(portal_db)
    async with client(portal_app, "192.0.2.30") as c:
        asked, data = await ask_code(c, "ar", values)
        assert asked.status_code == 200 and 'id="code-sent"' in asked.text
        assert "أرسلنا رمزًا" in asked.text
        data.pop("code_request")
        data["form_id"] = hidden(asked.text, "form_id")
        real = latest_code(portal_worker.outbox, values["signer_email"])
        data["code"] = "000000" if real != "000000" else "111111"
        wrong = await c.post(PATH, data=data)
        assert wrong.status_code == 422
        page = html.unescape(wrong.text)
        assert "هذا الرمز غير صحيح" in page and 'id="code-error"' in wrong.text
        for name in ("recipient_name", "purpose", "representative_authority", "signature_name"):
            assert f'value="{html.escape(values[name])}"' in wrong.text, name
        assert 'name="ack_revoke" value="yes" checked' in wrong.text
        assert "value_error" not in page and "String should" not in page
        # the right code, once it has expired
        digest = codes.email_digest(values["signer_email"])
        with session_scope(portal_db) as session:
            session.execute(
                update(PortalEmailCode)
                .where(col(PortalEmailCode.email_digest) == digest)
                .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
        data["code"] = real
        data["form_id"] = hidden(wrong.text, "form_id")
        expired = await c.post(PATH, data=data)
    assert expired.status_code == 422
    assert "هذا الرمز لم يعد صالحًا" in html.unescape(expired.text)
    assert _count(portal_db) == before  # nothing stored without a good code


async def test_a_missing_element_is_named_and_nothing_is_sent(
    portal_app: FastAPI, portal_db: str
) -> None:
    values = {
        **THIRD_PARTY,
        "signer_email": "missing.element@example.org",
        "ack_conditioning": "",
        "expiration_date": "",
        "purpose": "",
        "code": "123456",
    }
    before = _count(portal_db)
    async with client(portal_app, "192.0.2.31") as c:
        page = await c.get(f"{PATH}?lang=es")
        assert "notas de psicoterapia" in page.text  # and where to get their own form
        data = {
            "csrf_token": hidden(page.text, "csrf_token"),
            "form_id": hidden(page.text, "form_id"),
            "lang": "es",
            **values,
        }
        answer = await c.post(PATH, data=data)
    assert answer.status_code == 422
    text = html.unescape(answer.text)
    for field in ("ack_conditioning", "expiration_date", "purpose"):
        assert f'id="{field}-error"' in answer.text, field
    assert "Indique una fecha o un suceso en que termina esta autorización." in text
    assert "Marque la casilla para indicar que leyó esta declaración." in text
    assert _count(portal_db) == before


async def test_too_many_codes_for_one_email_are_limited(
    portal_db: str, portal_env: WorkflowEnvironment, portal_worker: Harness
) -> None:
    app = make_portal(portal_db, portal_env, portal_worker, codes_per_email_window=2)
    values = {**THIRD_PARTY, "signer_email": "many.codes@example.org"}
    async with client(app, "192.0.2.40") as c:
        for _ in range(2):
            asked, _ = await ask_code(c, "es", values)
            assert asked.status_code == 200
        limited, _ = await ask_code(c, "es", values)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert "Se enviaron demasiados códigos a esta dirección." in html.unescape(limited.text)
        assert f'value="{values["recipient_name"]}"' in limited.text  # nothing typed lost
        other, _ = await ask_code(c, "es", {**values, "signer_email": "other@example.org"})
        assert other.status_code == 200


async def test_a_double_click_sends_one_signed_request(
    portal_app: FastAPI, portal_db: str, portal_worker: Harness
) -> None:
    values = {**THIRD_PARTY, "signer_email": "double.click@example.org"}
    async with client(portal_app, "192.0.2.50") as c:
        asked, data = await ask_code(c, "en", values)
        data.pop("code_request")
        data["form_id"] = hidden(asked.text, "form_id")
        data["code"] = latest_code(portal_worker.outbox, values["signer_email"])
        first = await c.post(PATH, data=data)
        second = await c.post(PATH, data=data)  # its code is spent: the first answer again
    assert first.status_code == second.status_code == 200, second.text[-2000:]
    assert tracking_number(first.text) == tracking_number(second.text)
