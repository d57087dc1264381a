"""The friends-and-family agreement (164.510(b)) over HTTP against PostgreSQL: sent in
English and Arabic it is stored (as received first, then accepted, indexed by the patient's
key); a refused field comes back in the patient's language with what was typed kept and
nothing accepted; and the own-records form takes an optional photo ID, re-encoded and kept
encrypted with the request."""

from __future__ import annotations

from datetime import date

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from domain.patients import patient_key
from store.db import session_scope
from store.friends_family import FriendsFamilyAuthorization
from store.models import IntakeSubmission
from store.portal import PortalUpload
from tests.portal.helpers import OWN_RECORDS, client, hidden, tracking_number
from tests.portal.upload_samples import jpeg_with_gps

PATH = "/request/friends-family"
AGREEMENT = {
    "relationship": "self",
    "patient_first_name": "Farah",
    "patient_last_name": "Testfamily",
    "patient_dob": "1961-02-03",
    "site": "minnesota",
    "person_1_name": "Omar Testfamily",
    "person_1_relationship": "son",
    "person_1_phone": "507-555-0144",
    "scope_condition": "yes",
    "scope_appointments": "yes",
    "until": "revoked",
    "signature_name": "Farah Testfamily",
    "consent": "yes",
}


async def send(c: httpx.AsyncClient, lang: str, values: dict[str, str]) -> httpx.Response:
    page = await c.get(f"{PATH}?lang={lang}")
    assert page.status_code == 200
    data = {
        "csrf_token": hidden(page.text, "csrf_token"),
        "form_id": hidden(page.text, "form_id"),
        "lang": lang,
        "website": "",
        **values,
    }
    return await c.post(PATH, data=data)


def _stored(database_url: str, name: str) -> list[FriendsFamilyAuthorization]:
    with session_scope(database_url) as session:
        rows = session.execute(select(FriendsFamilyAuthorization)).scalars().all()
        found = [r for r in rows if r.payload.get("patient", {}).get("last_name") == name]
        for r in found:
            session.expunge(r)
        return found


async def test_home_links_to_the_form(portal_app: FastAPI) -> None:
    async with client(portal_app) as c:
        home = await c.get("/?lang=es")
    assert f'href="{PATH}?lang=es"' in home.text
    assert "Compartir información con familiares y amigos" in home.text


async def test_an_agreement_in_english_and_in_arabic_is_stored(
    portal_app: FastAPI, portal_db: str
) -> None:
    async with client(portal_app) as c:
        english = await send(c, "en", AGREEMENT)
        arabic = await send(
            c,
            "ar",
            {
                **AGREEMENT,
                "patient_last_name": "Testarabic",
                "person_1_name": "ليلى تست",
                "person_1_relationship": "ابنة",
                "until": "date",
                "ends_on": "2031-01-31",
                "scope_all_but_psychotherapy": "yes",
            },
        )
    assert english.status_code == 200, english.text
    assert "Your agreement is on file" in english.text and 'id="reference"' in english.text
    assert arabic.status_code == 200
    assert 'dir="rtl"' in arabic.text and "موافقتك محفوظة لدينا" in arabic.text
    (en_row,) = _stored(portal_db, "Testfamily")
    assert en_row.outcome == "accepted" and en_row.ends_on is None
    assert en_row.patient_key == patient_key("Farah", "Testfamily", date(1961, 2, 3))
    assert en_row.payload["persons"][0]["name"] == "Omar Testfamily"
    assert en_row.payload["scopes"] == ["condition", "appointments"]
    (ar_row,) = _stored(portal_db, "Testarabic")
    assert ar_row.outcome == "accepted" and str(ar_row.ends_on) == "2031-01-31"
    assert ar_row.payload["language"] == "ar" and ar_row.payload["persons"][0]["name"] == "ليلى تست"


async def test_refused_fields_are_translated_and_what_was_typed_is_kept(
    portal_app: FastAPI, portal_db: str
) -> None:
    wrong = {
        **AGREEMENT,
        "patient_last_name": "Testrefused",
        "person_1_relationship": "",
        "scope_condition": "",
        "scope_appointments": "",
        "until": "date",
        "ends_on": "2020-01-01",
    }
    async with client(portal_app) as c:
        answer = await send(c, "es", wrong)
        unconfirmed = await send(c, "ar", {**wrong, "consent": ""})
    assert answer.status_code == 422
    page = answer.text
    assert "Elija al menos una cosa que se les pueda decir, o descríbala." in page
    assert "Esta fecha ya pasó" in page or "fecha" in page
    assert 'value="Omar Testfamily"' in page and 'value="2020-01-01"' in page
    assert 'aria-invalid="true"' in page and 'href="#person_1_relationship"' in page
    # the refused one is kept for staff (stored first), never accepted
    (row,) = _stored(portal_db, "Testrefused")
    assert row.outcome == "rejected" and row.patient_key is None
    # without the confirmation nothing more is stored; every problem is named in Arabic
    assert unconfirmed.status_code == 422 and 'dir="rtl"' in unconfirmed.text
    assert "اختر شيئًا واحدًا على الأقل يجوز إخبارهم به" in unconfirmed.text
    assert len(_stored(portal_db, "Testrefused")) == 1


async def test_the_own_records_form_takes_a_photo_id_without_its_exif(
    portal_app: FastAPI, portal_db: str
) -> None:
    photo = jpeg_with_gps()
    async with client(portal_app) as c:
        page = await c.get("/request/own-records?lang=en")
        assert 'name="photo_id_file"' in page.text and "driver&#39;s license" in page.text
        data = {
            "csrf_token": hidden(page.text, "csrf_token"),
            "form_id": hidden(page.text, "form_id"),
            "lang": "en",
            "website": "",
            **OWN_RECORDS,
            "patient_last_name": "Testphotoid",
        }
        sent = await c.post(
            "/request/own-records",
            data=data,
            files={"photo_id_file": ("license.jpg", photo, "image/jpeg")},
        )
        refused = await c.post(
            "/request/imaging",
            data={
                **data,
                "form_id": hidden((await c.get("/request/imaging")).text, "form_id"),
                "delivery": "cd_mail",
            },
            files={"photo_id_file": ("license.jpg", b"<html>not a photo</html>", "image/jpeg")},
        )
    assert sent.status_code == 200, sent.text
    tracking = tracking_number(sent.text)
    with session_scope(portal_db) as session:
        sub = session.execute(
            select(IntakeSubmission).where(col(IntakeSubmission.tracking_number) == tracking)
        ).scalar_one()
        (upload,) = (
            session.execute(select(PortalUpload).where(col(PortalUpload.submission_id) == sub.id))
            .scalars()
            .all()
        )
        assert upload.kind == "photo_id" and upload.media_type == "image/jpeg"
        assert b"PhoneMaker" not in upload.content
    assert refused.status_code == 422
    assert "This file is not a PDF, JPEG or PNG" in refused.text
    assert "Attach the document again" in refused.text
