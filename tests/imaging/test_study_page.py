"""The imaging study page on the patient portal (issue 18): Avery's CT and X-ray released from
the real Orthanc by the channel's own code (activities.channels.imaging.download_zip), a link
row as the deliver activity makes it, and the portal app over HTTP against PostgreSQL: the
date of birth before anything is shown, the studies, series and previews read from the
release, the zip, a link shared with another doctor recorded as a disclosure the patient
directed, staff revocation, every use audited, tokens out of the logs. In Chromium (axe-core
injected): English and Arabic at 390 px, screenshots in test-artifacts/portal/."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select, text
from sqlmodel import col

from activities.channels import imaging
from activities.outbox import Outbox
from config.redact import RedactSecrets, redact_path
from config.settings import Settings
from domain.request import RecordRequestSubmission
from portal.main import create_app
from services import links as link_service
from store import links
from store.db import session_scope
from store.models import Disclosure, DownloadAccess, DownloadLink, RecordRequest
from tests import factories
from tests.imaging.conftest import AVERY, Archive
from tests.portal.helpers import client, hidden
from tests.portal.test_browser import ARGS, ARTIFACTS, AXE, CHROMIUM, _axe, _free_port

SECRET = "study-page-test-secret-0123456789abcdef"
#: Avery's CT (2023-05-10, 20 slices) and X-ray (2024-02-01): 2 studies, 2 series, 21 images
DATES = (date(2023, 1, 1), date(2024, 3, 1))
LINK = re.compile(r'value="(https://testserver/imaging/[^"]+)"')


@dataclass
class Release:
    request_id: str
    link_id: str
    token: str
    path: Path
    database_url: str
    settings: Settings


def _submission() -> RecordRequestSubmission:
    data = factories.own_records(kind="imaging", delivery_method="email_link")
    data["patient"] = {
        "first_name": AVERY.given_name,
        "last_name": AVERY.family_name,
        "date_of_birth": AVERY.birth_date.isoformat(),
        "mrn": AVERY.mrn,
    }
    data["records"] = {
        "description": "My imaging studies",
        "date_from": DATES[0].isoformat(),
        "date_to": DATES[1].isoformat(),
    }
    return RecordRequestSubmission.model_validate(data)


def _request_row(database_url: str, request_id: str) -> None:
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        session.add(
            RecordRequest(
                id=request_id,
                workflow_id=f"roi-{request_id}",
                tracking_number=f"ROI-{request_id[:5].upper()}-{request_id[5:10].upper()}",
                kind="imaging",
                site="minnesota",
                channel="portal",
                language="en",
                status="completed",
                delivery_method="email_link",
                received_at=now,
                due_at=now + timedelta(days=30),
                original_due_date=now.date(),
                due_date=now.date(),
                patient_name="Testpatient, Avery",
                patient_dob=AVERY.birth_date,
                requester_name="Avery Testpatient",
                recipient_name="Avery Testpatient",
            )
        )


@pytest.fixture(scope="module")
def release(
    archive: Archive, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Release:
    """The release zip built by the channel's code, its request row and its link."""
    outbox = Outbox(tmp_path_factory.mktemp("study-outbox"))
    request_id = uuid.uuid4().hex[:26]
    key = f"{request_id}-deliver-1"
    path, counts = imaging.download_zip(
        archive.source, outbox, _submission(), key=key, request_id=request_id, reference="REF"
    )
    assert counts.instances == 21
    _request_row(database_url, request_id)
    link = links.create_link(
        database_url,
        delivery_key=key,
        request_id=request_id,
        patient_key=None,
        package_path=str(path),
        content_type="application/zip",
        now=datetime.now(UTC),
        ttl=timedelta(days=30),
    )
    settings = Settings(link_secret=SECRET, outbox_dir=outbox.root)
    token = links.LinkSigner(SECRET).token(link.id)
    return Release(request_id, link.id, token, path, database_url, settings)


@pytest.fixture(scope="module")
def portal(release: Release) -> FastAPI:
    return create_app(release.settings, database_url=release.database_url)


@pytest.fixture
async def browser_client(portal: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client(portal, "198.51.100.20") as c:
        yield c


async def _confirm(c: httpx.AsyncClient, token: str, dob: str, lang: str = "en") -> httpx.Response:
    page = await c.get(f"/imaging/{token}?lang={lang}")
    assert page.status_code == 200, page.text[:300]
    data = {"csrf_token": hidden(page.text, "csrf_token"), "date_of_birth": dob, "lang": lang}
    return await c.post(f"/imaging/{token}", data=data)


def _accesses(database_url: str, link_id: str) -> list[tuple[str, str | None]]:
    with session_scope(database_url) as session:
        rows = session.execute(
            select(DownloadAccess.outcome, DownloadAccess.item)
            .where(col(DownloadAccess.link_id) == link_id)
            .order_by(col(DownloadAccess.id))
        ).all()
    return [(o, i) for o, i in rows]


async def test_the_page_asks_the_date_of_birth_then_shows_studies_series_and_previews(
    release: Release, browser_client: httpx.AsyncClient
) -> None:
    c = browser_client
    asked = await c.get(f"/imaging/{release.token}")
    assert asked.status_code == 200 and 'name="date_of_birth"' in asked.text
    assert "Avery" not in asked.text and "count-images" not in asked.text
    zip_before = await c.get(f"/imaging/{release.token}/study.zip")
    assert zip_before.status_code == 303  # no zip before the date of birth
    thumb_before = await c.get(f"/imaging/{release.token}/preview/ST001_SE001.jpg")
    assert thumb_before.status_code == 403

    wrong = await _confirm(c, release.token, "1984-03-15")
    assert wrong.status_code == 403 and "does not match" in wrong.text

    page = await _confirm(c, release.token, AVERY.birth_date.isoformat())
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert re.search(r'id="count-studies">2<', html)
    assert re.search(r'id="count-series">2<', html)
    assert re.search(r'id="count-images">21<', html)
    assert "CT series 1, 20 images" in html and "CR series 1, 1 image" in html
    previews = re.findall(r'src="(/imaging/[^"]+/preview/ST\d{3}_SE\d{3}\.jpg)"', html)
    assert len(previews) == 2
    for src in previews:
        got = await c.get(src)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(got.content)).format == "JPEG"

    zipped = await c.get(f"/imaging/{release.token}/study.zip")
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        names = archive.namelist()
    assert len([n for n in names if n.startswith("DICOM/")]) == 21 and "DICOMDIR" in names

    again = await c.get(f"/imaging/{release.token}")  # the same device: not asked again
    assert again.status_code == 200 and "count-images" in again.text

    seen = _accesses(release.database_url, release.link_id)
    assert ("dob_wrong", "page") in seen and ("confirmed", "page") in seen
    assert ("repeat", "zip") in seen and ("repeat", "page") in seen
    assert ("repeat", "preview:ST001_SE001") in seen and ("dob_asked", "zip") in seen


async def test_a_wrong_or_expired_or_revoked_token_shows_nothing(
    release: Release, portal: FastAPI
) -> None:
    async with client(portal, "198.51.100.21") as c:
        assert (await c.get(f"/imaging/{release.token}x")).status_code == 404
        expired = links.create_link(
            release.database_url,
            delivery_key=f"{release.request_id}-expired",
            request_id=release.request_id,
            patient_key=None,
            package_path=str(release.path),
            content_type="application/zip",
            now=datetime.now(UTC) - timedelta(days=40),
            ttl=timedelta(days=30),
        )
        token = links.LinkSigner(SECRET).token(expired.id)
        page = await c.get(f"/imaging/{token}?lang=es")
        assert page.status_code == 410 and "caducado" in page.text
        assert (await c.get(f"/imaging/{token}/study.zip")).status_code == 410
    assert [o for o, _ in _accesses(release.database_url, expired.id)] == ["expired", "expired"]


async def test_sharing_makes_a_second_link_a_disclosure_and_staff_revoke_it(
    release: Release, portal: FastAPI
) -> None:
    async with client(portal, "198.51.100.22") as patient:
        page = await _confirm(patient, release.token, AVERY.birth_date.isoformat())
        csrf = hidden(page.text, "csrf_token")
        missing = await patient.post(
            f"/imaging/{release.token}/share",
            data={"csrf_token": csrf, "doctor_name": "", "doctor_contact": "", "lang": "en"},
        )
        assert missing.status_code == 422 and "Enter the doctor" in missing.text
        shared = await patient.post(
            f"/imaging/{release.token}/share",
            data={
                "csrf_token": csrf,
                "doctor_name": "Dr. Casey Example",
                "doctor_contact": "Example Orthopedics",
                "lang": "en",
            },
        )
        assert shared.status_code == 200, shared.text[:500]
        [url] = LINK.findall(shared.text)
    token = url.rsplit("/", 1)[1]
    shared_id = link_service.link_id_of(SECRET, token)
    assert shared_id and shared_id != release.link_id

    with session_scope(release.database_url) as session:
        row = session.get(DownloadLink, shared_id)
        assert row is not None and row.shared_from == release.link_id
        assert row.expires_at - row.created_at == timedelta(days=14)
        [disclosure] = session.execute(
            select(Disclosure).where(
                col(Disclosure.request_id) == release.request_id,
                col(Disclosure.disclosed_by) == "patient",
            )
        ).scalars()
        assert disclosure.recipient_name == "Dr. Casey Example"
        assert disclosure.recipient_address == "Example Orthopedics"
        assert disclosure.purpose.startswith("At the patient's direction")
        assert disclosure.category == "patient_access" and "2023-05-10" in disclosure.description
        listed = [link.id for link, _, _ in link_service.links_of(session, release.request_id)]
        assert shared_id in listed  # the request page's list, which staff revoke from

    with session_scope(release.database_url) as session:  # the staff app's route asks too
        outcome, _ = link_service.open_download(
            session, shared_id, now=datetime.now(UTC), client=None, device="x" * 64
        )
    assert outcome == "dob_asked"

    async with client(portal, "203.0.113.40") as doctor:  # another device: the doctor's
        asked = await doctor.get(f"/imaging/{token}")
        assert asked.status_code == 200 and 'name="date_of_birth"' in asked.text
        seen = await _confirm(doctor, token, AVERY.birth_date.isoformat(), "ar")
        assert seen.status_code == 200 and 'dir="rtl"' in seen.text
        assert "count-images" in seen.text and "h-share" not in seen.text  # no re-sharing
        assert (await doctor.get(f"/imaging/{token}/study.zip")).status_code == 200

        with session_scope(release.database_url) as session:
            revoked = link_service.revoke(
                session, request_id=release.request_id, actor="spec.jlee", at=datetime.now(UTC)
            )
        assert revoked >= 2
        assert (await doctor.get(f"/imaging/{token}")).status_code == 410
        assert (await doctor.get(f"/imaging/{token}/study.zip")).status_code == 410
    outcomes = _accesses(release.database_url, shared_id)
    assert ("confirmed", "page") in outcomes and ("repeat", "zip") in outcomes
    assert ("revoked", "page") in outcomes and ("revoked", "zip") in outcomes
    # revoked for the other tests too: give the module's link a fresh life
    with session_scope(release.database_url) as session:
        session.execute(
            text("UPDATE download_links SET revoked_at = NULL, revoked_by = NULL WHERE id = :i"),
            {"i": release.link_id},
        )


def test_the_access_log_line_has_no_token(release: Release) -> None:
    """uvicorn's access line (client, method, path with query, version, status) is redacted."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/imaging/{release.token}/study.zip?lang=ar", "1.1", 200),
        None,
    )
    RedactSecrets().filter(record)
    line = record.getMessage()
    assert release.token not in line and "/imaging/[redacted]" in line
    assert redact_path("/request/imaging?lang=es") == "/request/imaging"  # the form stays


# ---- in Chromium ------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def served(portal: FastAPI) -> AsyncIterator[str]:
    """The portal served by uvicorn in this event loop."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(portal, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_the_study_page_in_chromium(release: Release, served: str, lang: str) -> None:
    """No serious or critical axe violation, nothing sideways at 390 px, previews loaded."""
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = await b.new_context(
                viewport={"width": 390, "height": 844}, bypass_csp=AXE.exists()
            )
            page = await context.new_page()
            await page.goto(f"{served}/imaging/{release.token}?lang={lang}")
            await page.fill("#date_of_birth", AVERY.birth_date.isoformat())
            await page.click("button[type=submit]")
            await page.wait_for_selector("#count-images")
            await page.wait_for_function(
                "[...document.images].every(i => i.complete && i.naturalWidth > 0)"
            )
            assert await page.evaluate("document.documentElement.dir") == (
                "rtl" if lang == "ar" else "ltr"
            )
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            alts = await page.eval_on_selector_all(".one-series img", "xs => xs.map(x => x.alt)")
            assert len(alts) == 2 and all(alts)
            await page.screenshot(path=str(ARTIFACTS / f"imaging-study-{lang}.png"), full_page=True)
            if AXE.exists():
                problems = await _axe(page)
                assert not problems, problems
        finally:
            await b.close()
