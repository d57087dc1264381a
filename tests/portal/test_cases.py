"""The other kinds' forms over HTTP, against PostgreSQL and the Temporal test server: each
reaches services/intake.py and starts its workflow (the read model's row appears), errors come
back in the patient's language with what was typed kept, outside records are answered at once,
and uploads are sniffed, re-encoded, size-limited and kept encrypted, never served back."""

from __future__ import annotations

import asyncio
import html
from io import BytesIO
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from domain.kinds.outside_records import REDIRECT_MESSAGE
from portal import cases
from store import portal as portal_rows
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest
from store.portal import PortalUpload
from tests.harness import Harness
from tests.portal.conftest import make_portal
from tests.portal.helpers import client, hidden, tracking_number
from tests.portal.upload_samples import (
    html_named_pdf,
    jpeg_with_gps,
    pdf_with_javascript,
    small_pdf,
    zip_named_pdf,
)

PATIENT = {
    "patient_first_name": "Portia",
    "patient_last_name": "Testpatient",
    "patient_dob": "1979-05-14",
    "site": "minnesota",
}
CONTACT = {
    "email": "portia.testpatient@example.org",
    "phone": "507-555-0111",
    "address_line1": "12 Example Street",
    "address_city": "Rochester",
    "address_state": "MN",
    "address_postal_code": "55901",
}
PARENT = {"requester_first_name": "Parker", "requester_last_name": "Testparent"}
#: What each form is sent with (and its file, if it takes one).
KINDS: dict[str, tuple[dict[str, str], bytes | None]] = {
    "amendment": (
        {
            **PATIENT,
            **CONTACT,
            "relationship": "self",
            "record_description": "Allergy list in the 2025 visit notes",
            "requested_change": "Remove penicillin",
            "reason": "I was tested and am not allergic",
        },
        None,
    ),
    "revocation": (
        {**PATIENT, **CONTACT, "relationship": "self", "authorizations": "roi-ab12c-3de45"},
        None,
    ),
    "proxy-access": (
        {
            **PATIENT,
            **CONTACT,
            **PARENT,
            "patient_dob": "2016-03-02",
            "basis": "parent_of_minor",
            "document_kind": "birth_certificate",
        },
        b"pdf",
    ),
    "billing": (
        {**PATIENT, **CONTACT, "relationship": "self", "question": "Why was I billed twice?"},
        None,
    ),
    "death-notice": (
        {
            **PATIENT,
            **PARENT,
            "patient_middle_name": "Quinn",
            "patient_dod": "2026-11-20",
            "reporter_relationship": "son",
            "phone": "507-555-0112",
        },
        b"jpeg",
    ),
    "adoption-notice": (
        {**PATIENT, **CONTACT, **PARENT, "patient_dob": "2020-01-01"},
        b"pdf",
    ),
}
KIND_OF = {
    "amendment": "amendment",
    "revocation": "revocation",
    "proxy-access": "proxy_access",
    "billing": "billing",
    "death-notice": "deceased_notice",
    "adoption-notice": "adoption_notice",
}


def _file(which: bytes | None) -> bytes | None:
    return {b"pdf": small_pdf, b"jpeg": jpeg_with_gps}[which]() if which else None


async def send(
    c: httpx.AsyncClient,
    slug: str,
    lang: str,
    values: dict[str, str],
    content: bytes | None = None,
    filename: str = "document.pdf",
) -> httpx.Response:
    """Open the form, then send it (multipart with the file, as a browser does)."""
    page = await c.get(f"/request/{slug}?lang={lang}")
    assert page.status_code == 200
    data = {
        "csrf_token": hidden(page.text, "csrf_token"),
        "form_id": hidden(page.text, "form_id"),
        "lang": lang,
        "website": "",
        "consent": "yes",
        **values,
    }
    if slug == "adoption-notice":
        data.setdefault("document_type", "adoption_decree")
    files: Any = {"document_file": (filename, content, "application/pdf")} if content else None
    return await c.post(f"/request/{slug}", data=data, files=files)


async def projected(database_url: str, tracking: str) -> RecordRequest:
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


def uploads_of(database_url: str, tracking: str) -> list[PortalUpload]:
    with session_scope(database_url) as session:
        rows = list(
            session.execute(
                select(PortalUpload)
                .join(IntakeSubmission, col(IntakeSubmission.id) == col(PortalUpload.submission_id))
                .where(col(IntakeSubmission.tracking_number) == tracking)
            )
            .scalars()
            .all()
        )
        for row in rows:
            session.expunge(row)
        return rows


@pytest.mark.parametrize(
    ("slug", "lang"),
    [(slug, "en") for slug in KINDS] + [("amendment", "ar"), ("death-notice", "ar")],
)
async def test_each_kind_reaches_intake_and_starts_its_workflow(
    portal_app: FastAPI, portal_db: str, slug: str, lang: str
) -> None:
    values, which = KINDS[slug]
    async with client(portal_app) as c:
        answer = await send(c, slug, lang, values, _file(which))
    assert answer.status_code == 200, answer.text[:3000]
    tracking = tracking_number(answer.text)
    row = await projected(portal_db, tracking)
    assert (row.kind, row.channel, row.language) == (KIND_OF[slug], "portal", lang)
    with session_scope(portal_db) as session:
        stored = session.execute(
            select(IntakeSubmission).where(col(IntakeSubmission.tracking_number) == tracking)
        ).scalar_one()
        assert stored.source == "portal" and stored.outcome == "accepted"
    assert len(uploads_of(portal_db, tracking)) == (1 if which else 0)
    # what happens next is this kind's: 60 days for an amendment, at once for a revocation,
    # nothing sent for a notice; never the records' 30-day promise
    said = html.unescape(answer.text)
    expected = {
        ("amendment", "en"): "We answer within 60 days.",
        ("amendment", "ar"): "نرد خلال 60 يومًا.",
        ("revocation", "en"): "Your revocation is recorded now",
        ("death-notice", "en"): "Nothing is sent to anyone.",
        ("death-notice", "ar"): "لا يُرسل أي شيء إلى أي أحد.",
    }.get((slug, lang))
    if expected is not None:
        assert expected in said
        assert "most requests within 14" not in said


async def test_errors_in_arabic_next_to_their_field_with_values_kept(portal_app: FastAPI) -> None:
    values = {**KINDS["amendment"][0], "requested_change": "", "reason": "خطأ في القائمة"}
    async with client(portal_app) as c:
        answer = await send(c, "amendment", "ar", values)
    assert answer.status_code == 422
    assert 'id="requested_change-error"' in answer.text
    assert "املأ: ما الذي يجب أن يقوله." in answer.text or "ما الذي يجب أن يقوله" in answer.text
    assert "خطأ في القائمة" in answer.text and values["record_description"] in answer.text
    assert "String should" not in answer.text and "Field required" not in answer.text


async def test_a_revocation_names_a_wrong_tracking_number_in_spanish(portal_app: FastAPI) -> None:
    values = {**KINDS["revocation"][0], "authorizations": "12345"}
    async with client(portal_app) as c:
        answer = await send(c, "revocation", "es", values)
    assert answer.status_code == 422
    assert "Dé el número de seguimiento de cada autorización" in answer.text
    assert ">12345</textarea>" in answer.text


async def test_outside_records_are_answered_at_once_in_the_patients_language(
    portal_app: FastAPI,
) -> None:
    assert cases.OUTSIDE_REDIRECT == REDIRECT_MESSAGE  # the workflow's own reply, word for word
    async with client(portal_app) as c:
        english = await c.get("/request/outside-records?lang=en")
        spanish = await c.get("/request/outside-records?lang=es")
        home = await c.get("/?lang=en")
    assert english.status_code == 200 and REDIRECT_MESSAGE in english.text
    assert "ask that provider" in english.text and "<form" not in english.text.split("<main")[1]
    assert "Gracias por enviar estos expedientes" in spanish.text
    for spec in cases.FORMS:
        assert f'href="{spec.action}?lang=en"' in home.text
    assert 'href="/request/outside-records?lang=en"' in home.text


async def test_a_photo_loses_its_exif_and_is_kept_encrypted(
    portal_app: FastAPI, portal_db: str
) -> None:
    values, _ = KINDS["death-notice"]
    photo = jpeg_with_gps()
    assert Image.open(BytesIO(photo)).getexif().get(0x8825)  # it has GPS
    async with client(portal_app) as c:
        answer = await send(c, "death-notice", "en", values, photo, "certificate.pdf")
    tracking = tracking_number(answer.text)
    (row,) = uploads_of(portal_db, tracking)
    assert row.media_type == "image/jpeg" and row.key_id == "demo"
    assert b"\xff\xd8\xff" not in row.content[:16] and b"PhoneMaker" not in row.content
    request_id = (await projected(portal_db, tracking)).id
    with session_scope(portal_db) as session:
        found = portal_rows.upload(session, request_id, row.id, Settings(env="test").payload_keys)
    assert found is not None
    media_type, plain = found
    assert media_type == "image/jpeg"
    image = Image.open(BytesIO(plain))
    assert image.format == "JPEG" and not image.getexif() and "exif" not in image.info
    assert b"PhoneMaker" not in plain and image.size == (64, 48)


async def test_a_pdf_loses_its_scripts_and_attachments(portal_app: FastAPI, portal_db: str) -> None:
    values, _ = KINDS["adoption-notice"]
    async with client(portal_app) as c:
        answer = await send(c, "adoption-notice", "en", values, pdf_with_javascript())
    tracking = tracking_number(answer.text)
    (row,) = uploads_of(portal_db, tracking)
    assert b"%PDF" not in row.content and b"JavaScript" not in row.content
    request_id = (await projected(portal_db, tracking)).id
    with session_scope(portal_db) as session:
        found = portal_rows.upload(session, request_id, row.id, None)
    assert found is not None and found[0] == "application/pdf"
    for active in (b"JavaScript", b"OpenAction", b"/AA", b"EmbeddedFile", b"/AF", b"MZ not"):
        assert active not in found[1], active


@pytest.mark.parametrize(
    ("content", "lang", "expected"),
    [
        (html_named_pdf(), "en", "This file is not a PDF, JPEG or PNG."),
        (zip_named_pdf(), "ar", "هذا الملف ليس PDF ولا JPEG ولا PNG."),
        (b"%PDF-1.7 but not really a pdf", "es", "No pudimos leer el archivo"),
    ],
)
async def test_a_file_that_is_not_what_its_name_says_is_refused(
    portal_app: FastAPI, portal_db: str, content: bytes, lang: str, expected: str
) -> None:
    values, _ = KINDS["death-notice"]
    async with client(portal_app) as c:
        answer = await send(c, "death-notice", lang, values, content, "certificate.pdf")
    assert answer.status_code == 422
    assert expected in answer.text and 'id="document_file-error"' in answer.text
    assert values["reporter_relationship"] in answer.text  # what was typed is kept
    with session_scope(portal_db) as session:
        stored = session.execute(
            select(IntakeSubmission).where(
                col(IntakeSubmission.idempotency_key) == f"portal:{hidden(answer.text, 'form_id')}"
            )
        ).scalar_one_or_none()
    assert stored is None


async def test_a_file_past_the_limit_is_refused_in_the_patients_language(
    portal_db: str, portal_env: WorkflowEnvironment, portal_worker: Harness
) -> None:
    app = make_portal(portal_db, portal_env, portal_worker, upload_max_bytes=2_000_000)
    big = jpeg_with_gps() + b"\0" * 2_100_000
    values, _ = KINDS["death-notice"]
    async with client(app) as c:
        answer = await send(c, "death-notice", "es", values, big)
    assert answer.status_code == 422
    assert "El archivo pesa más de 2 MB" in answer.text


async def test_the_portal_never_serves_an_upload(portal_app: FastAPI) -> None:
    paths = [getattr(r, "path", "") for r in portal_app.routes]
    assert not [p for p in paths if "upload" in p or "document" in p]
    async with client(portal_app) as c:
        answer = await c.get("/requests/x/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert answer.status_code == 404
