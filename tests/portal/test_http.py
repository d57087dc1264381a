"""The portal over HTTP, against a real PostgreSQL and Temporal test server: submissions reach
services/intake.py and start their workflow (the staff queue's row appears), field errors come
back next to their field in the patient's language with everything typed kept, a honeypot
starts nothing, the per-address limit answers a translated 429, and every page renders in every
language from complete catalogs."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from domain.types import Language
from portal import i18n
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest, SecurityEvent
from tests.harness import Harness
from tests.portal.conftest import make_portal
from tests.portal.helpers import LANGUAGES, OWN_RECORDS, PAGES, client, fill, tracking_number

ROOT = Path(__file__).resolve().parents[2]


async def _projected(database_url: str, tracking: str) -> RecordRequest:
    """The request's row in the read model the staff queue reads (written by its workflow)."""
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


def _submission(database_url: str, tracking: str) -> IntakeSubmission | None:
    with session_scope(database_url) as session:
        row = session.execute(
            select(IntakeSubmission).where(col(IntakeSubmission.tracking_number) == tracking)
        ).scalar_one_or_none()
        if row is not None:
            session.expunge(row)
        return row


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_own_records_reaches_intake_and_starts_its_workflow(
    portal_app: FastAPI, portal_db: str, lang: str
) -> None:
    async with client(portal_app) as c:
        answer = await fill(c, "/request/own-records", lang, OWN_RECORDS)
    assert answer.status_code == 200, answer.text
    tracking = tracking_number(answer.text)
    assert f'href="/status?lang={lang}"' in answer.text
    stored = _submission(portal_db, tracking)
    assert stored is not None and stored.source == "portal" and stored.outcome == "accepted"
    assert stored.channel == "portal" and stored.payload["language"] == lang
    row = await _projected(portal_db, tracking)
    assert (row.kind, row.channel, row.language) == ("access_own", "portal", lang)


async def test_imaging_by_fedex_shows_its_fee_and_starts(
    portal_app: FastAPI, portal_db: str
) -> None:
    values = {**OWN_RECORDS, "delivery": "fedex", "records_description": "Knee MRI"}
    values.pop("format")
    async with client(portal_app) as c:
        page = await c.get("/request/imaging?lang=es")
        assert "$45.00" in page.text  # Babel, es_US
        assert 'value="cd_mail"' in page.text and 'value="us_mail"' not in page.text
        answer = await fill(c, "/request/imaging", "es", values)
    assert answer.status_code == 200, answer.text
    row = await _projected(portal_db, tracking_number(answer.text))
    assert (row.kind, row.delivery_method) == ("imaging", "fedex")


async def test_a_double_click_sends_one_request(portal_app: FastAPI, portal_db: str) -> None:
    async with client(portal_app) as c:
        page = await c.get("/request/own-records?lang=en")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        form_id = re.search(r'name="form_id" value="([^"]+)"', page.text)
        assert token and form_id
        data = {**OWN_RECORDS, "csrf_token": token[1], "form_id": form_id[1], "lang": "en"}
        first, second = (
            await c.post("/request/own-records", data=data),
            await c.post("/request/own-records", data=data),
        )
    assert tracking_number(first.text) == tracking_number(second.text)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Enter an email address like name@example.com."),
        ("es", "Escriba un correo electrónico como nombre@ejemplo.com."),
        ("ar", "أدخل بريدًا إلكترونيًا مثل name@example.com."),
    ],
)
async def test_field_errors_in_the_patients_language_next_to_the_field_values_kept(
    portal_app: FastAPI, portal_db: str, lang: str, expected: str
) -> None:
    typed = {
        **OWN_RECORDS,
        "email": "not-an-email",
        "patient_first_name": "Zélie «Ω»",
        "address_postal_code": "5590",
    }
    async with client(portal_app) as c:
        answer = await fill(c, "/request/own-records", lang, typed)
    assert answer.status_code == 422
    page = answer.text
    # each error sits in its field's block, is named by aria-describedby, the field is invalid
    email_block = page[page.index('<label for="email">') : page.index('id="email"')]
    assert '<p class="field-error" id="email-error">' in email_block
    assert expected in html.unescape(email_block)
    email_input = re.search(r'<input id="email"[^>]*>', page)
    assert email_input and 'aria-invalid="true"' in email_input[0]
    assert "email-error" in email_input[0]
    assert 'id="address_postal_code-error"' in page
    # everything typed is kept, escaped
    for name, value in typed.items():
        if name in ("relationship", "site", "delivery", "format", "consent"):
            assert f'name="{name}" value="{value}" checked' in page.replace(
                f'id="{name}-{value}" ', ""
            )
        elif value:
            assert f'value="{html.escape(value)}"' in page or html.escape(value) in page, name
    # never the validator's own words
    for raw in ("value_error", "Value error", "String should", "enter a valid email"):
        assert raw not in page
    assert f'<html lang="{lang}"' in page


async def test_the_rejected_form_is_kept_for_staff(portal_app: FastAPI, portal_db: str) -> None:
    """Received is stored, even when refused (services/intake.py)."""
    with session_scope(portal_db) as session:
        before = len(session.execute(select(IntakeSubmission.id)).all())
    async with client(portal_app) as c:
        answer = await fill(c, "/request/own-records", "en", {**OWN_RECORDS, "site": ""})
    assert answer.status_code == 422
    assert 'id="site-error"' in answer.text
    with session_scope(portal_db) as session:
        rows = session.execute(select(IntakeSubmission)).scalars().all()
        assert len(rows) == before + 1
        assert any(r.outcome == "rejected" and r.source == "portal" for r in rows)


async def test_without_the_confirmation_nothing_is_stored_and_all_errors_show(
    portal_app: FastAPI, portal_db: str
) -> None:
    with session_scope(portal_db) as session:
        before = len(session.execute(select(IntakeSubmission.id)).all())
    typed = {**OWN_RECORDS, "consent": "", "patient_dob": "2999-01-01"}
    async with client(portal_app) as c:
        answer = await fill(c, "/request/own-records", "ar", typed)
    assert answer.status_code == 422
    assert 'id="consent-error"' in answer.text and 'id="patient_dob-error"' in answer.text
    assert "ضع علامة في المربع للتأكيد قبل الإرسال." in answer.text
    with session_scope(portal_db) as session:
        assert len(session.execute(select(IntakeSubmission.id)).all()) == before


async def test_a_filled_honeypot_looks_like_success_and_starts_nothing(
    portal_app: FastAPI, portal_db: str
) -> None:
    with session_scope(portal_db) as session:
        before = len(session.execute(select(IntakeSubmission.id)).all())
    async with client(portal_app, "198.51.100.7") as c:
        answer = await fill(
            c, "/request/own-records", "en", {**OWN_RECORDS, "website": "http://spam.example"}
        )
    assert answer.status_code == 200
    tracking = tracking_number(answer.text)
    with session_scope(portal_db) as session:
        assert len(session.execute(select(IntakeSubmission.id)).all()) == before
        assert (
            session.execute(
                select(RecordRequest).where(col(RecordRequest.tracking_number) == tracking)
            ).first()
            is None
        )
        events = (
            session.execute(
                select(SecurityEvent).where(col(SecurityEvent.action) == "portal.honeypot")
            )
            .scalars()
            .all()
        )
        assert events and all("198.51.100.7" not in (e.client or "") for e in events)


async def test_too_many_submissions_from_one_address_get_a_translated_429(
    portal_db: str, portal_env: WorkflowEnvironment, portal_worker: Harness
) -> None:
    app = make_portal(portal_db, portal_env, portal_worker, submissions_per_window=2)
    async with client(app, "203.0.113.9") as c:
        for _ in range(2):  # refused for their fields, still counted
            answer = await fill(c, "/request/own-records", "ar", {**OWN_RECORDS, "email": "x"})
            assert answer.status_code == 422
        answer = await fill(c, "/request/own-records", "ar", OWN_RECORDS)
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    assert "محاولات كثيرة جدًا" in answer.text and 'dir="rtl"' in answer.text
    async with client(app, "203.0.113.10") as other:  # another address is not affected
        assert (await fill(other, "/request/own-records", "en", OWN_RECORDS)).status_code == 200


async def test_a_form_without_its_token_is_refused_in_its_language(portal_app: FastAPI) -> None:
    async with client(portal_app) as c:
        await c.get("/request/own-records?lang=es")
        answer = await c.post("/request/own-records", data={**OWN_RECORDS, "lang": "es"})
        assert answer.status_code == 403
        assert "Este formulario ha caducado" in answer.text
        crossed = await c.post(
            "/status", data={"lang": "en"}, headers={"origin": "https://evil.example"}
        )
        assert crossed.status_code == 403


async def test_status_in_the_patients_language(portal_app: FastAPI, portal_db: str) -> None:
    async with client(portal_app) as c:
        answer = await fill(c, "/request/own-records", "es", OWN_RECORDS)
        tracking = tracking_number(answer.text)
        await _projected(portal_db, tracking)
        page = await c.get("/status?lang=es")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        found = await c.post(
            "/status",
            data={
                "csrf_token": token[1],
                "lang": "es",
                "tracking_number": tracking.lower().replace("-", " "),
                "date_of_birth": OWN_RECORDS["patient_dob"],
            },
        )
        wrong = await c.post(
            "/status",
            data={
                "csrf_token": token[1],
                "lang": "es",
                "tracking_number": tracking,
                "date_of_birth": "1980-01-01",
            },
        )
    assert found.status_code == 200, found.text
    assert "Recibida" in found.text or "En revisión" in found.text
    assert "Prevista para el" in found.text and " de 20" in found.text  # Babel's long date
    assert wrong.status_code == 404 and "No encontramos una solicitud" in wrong.text


async def test_lang_then_cookie_then_accept_language(portal_app: FastAPI) -> None:
    async with client(portal_app) as c:
        first = await c.get("/?lang=ar")
        assert '<html lang="ar" dir="rtl">' in first.text
        again = await c.get("/")  # the cookie remembers
        assert '<html lang="ar" dir="rtl">' in again.text
    async with client(portal_app) as fresh:
        asked = await fresh.get("/", headers={"accept-language": "fr-FR, so;q=0.8, en;q=0.5"})
        assert '<html lang="so" dir="ltr">' in asked.text
        plain = await fresh.get("/")
        assert '<html lang="en" dir="ltr">' in plain.text


async def test_security_headers(portal_app: FastAPI) -> None:
    async with client(portal_app) as c:
        page = await c.get("/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["strict-transport-security"].startswith("max-age=")
    cookie = page.headers["set-cookie"]
    assert "__Host-roi_portal_csrf=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "roi_session" not in cookie  # no staff session here


async def test_the_portal_has_no_staff_routes(portal_app: FastAPI) -> None:
    async with client(portal_app) as c:
        for staff in ("/login", "/queue", "/board", "/admin/users", "/docs", "/openapi.json"):
            assert (await c.get(staff)).status_code == 404, staff
        refused = await c.post("/api/v1/requests/access_own", json={})
        assert refused.status_code in (403, 404)  # no form token, and no such route


async def test_an_end_date_before_the_start_is_named_at_the_end_date(portal_app: FastAPI) -> None:
    typed = {**OWN_RECORDS, "date_from": "2025-01-01", "date_to": "2024-01-01"}
    async with client(portal_app) as c:
        answer = await fill(c, "/request/own-records", "es", typed)
    assert answer.status_code == 422
    assert 'id="date_to-error"' in answer.text
    assert "La fecha final es anterior a la fecha inicial." in answer.text


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_every_page_renders_in_every_language(portal_app: FastAPI, lang: str) -> None:
    english: dict[str, str] = {}
    async with client(portal_app) as c:
        for path in PAGES:
            page = await c.get(f"{path}?lang={lang}")
            assert page.status_code == 200
            assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in page.text
            h1 = re.search(r"<h1>(.*?)</h1>", page.text)
            assert h1, path
            english[path] = h1[1]
            if lang != "en":
                en = await c.get(f"{path}?lang=en")
                assert h1[1] != re.search(r"<h1>(.*?)</h1>", en.text)[1]  # type: ignore[index]


def _ids(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def test_catalogs_are_complete_and_match_the_sources() -> None:
    """Every string of the templates and code is in the template catalog, and every language
    translates each one with the same placeholders."""
    method_map = [("portal/**.py", "python"), ("portal/templates/**.html", "jinja2")]
    options = {"portal/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    extracted = {
        str(message)
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT),
            method_map,
            options,
            keywords={"_": None, "gettext": None, "N_": None},
        )
        if "/portal/" in f"/{_file}" or _file.startswith("portal")
    }
    pot = _ids(i18n.LOCALE_DIR / "portal.pot")
    assert extracted == set(pot), (
        "portal/locale/portal.pot is out of date: run pybabel extract and update (README)"
    )
    placeholder = re.compile(r"%\(\w+\)s")
    for language in Language:
        strings = _ids(i18n.po_path(language))
        assert set(strings) == set(pot), language
        if language == Language.EN:
            continue
        for msgid, msgstr in strings.items():
            assert msgstr, f"{language.value}: no translation for {msgid!r}"
            assert sorted(placeholder.findall(msgstr)) == sorted(placeholder.findall(msgid))
