"""End to end in Chromium: an own-records request sent on the portal in English and one in
Arabic, then a specialist signs in to the staff app (password and the authenticator's code)
and finds both in `/queue` by tracking number; a deficient request's status page in Arabic at
390 px, its missing elements listed and the corrected form sent from it. The two apps are
separate processes in production; here both are served by uvicorn in this event loop on the
portal tests' database and Temporal server. Screenshots go to test-artifacts/portal/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from store.db import session_scope
from store.models import RecordRequest
from tests.harness import Harness
from tests.portal.helpers import OWN_RECORDS
from tests.portal.staff_helpers import served, signed_in
from tests.portal.staff_helpers import staff_app as make_staff_app
from tests.portal.test_browser import ARGS, ARTIFACTS, CHROMIUM, _projected
from tests.portal.test_status_and_records import DEFICIENCIES, DOB, _request
from tests.portal.upload_samples import small_pdf
from tests.web.helpers import add_staff

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)
SPECIALIST = "portal-e2e-specialist"
SITE = "wisconsin"  # the other portal browser tests send Minnesota and Arizona


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover
        pytest.skip("playwright is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        await b.close()


async def _send(browser: Any, portal: str, lang: str) -> str:
    """Fill and send the own-records form in `lang`; the tracking number shown."""
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = await context.new_page()
    await page.goto(f"{portal}/request/own-records?lang={lang}")
    if lang == "ar":
        assert await page.get_attribute("html", "dir") == "rtl"
    for name in ("patient_first_name", "patient_last_name", "records_description", "email"):
        await page.fill(f"#{name}", OWN_RECORDS[name])
    await page.fill("#patient_dob", OWN_RECORDS["patient_dob"])
    await page.check(f"#site-{SITE}")
    await page.check("#delivery-email_link")
    await page.check("#consent")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#tracking-number")
    await page.screenshot(
        path=str(ARTIFACTS / f"queue-e2e-confirmation-{lang}.png"), full_page=True
    )
    tracking = (await page.text_content("#tracking-number") or "").strip()
    await context.close()
    return tracking


async def test_requests_sent_in_english_and_arabic_are_in_the_specialists_queue(
    portal_app: FastAPI,
    portal_db: str,
    portal_env: WorkflowEnvironment,
    portal_worker: Harness,
    chromium: Any,
) -> None:
    staff_app = make_staff_app(portal_db, portal_env, portal_worker)
    add_staff(portal_db, SPECIALIST)
    async with served(portal_app) as portal, served(staff_app) as staff:
        sent = {lang: await _send(chromium, portal, lang) for lang in ("en", "ar")}
        for lang, tracking in sent.items():
            row = await _projected(portal_db, tracking)
            assert (row.language, row.site, row.channel) == (lang, SITE, "portal")
        page = await signed_in(chromium, staff, portal_db, SPECIALIST)
        await page.goto(f"{staff}/queue?site={SITE}&channel=portal")
        body = await page.text_content("body") or ""
        await page.screenshot(path=str(ARTIFACTS / "queue-e2e-staff-queue.png"), full_page=True)
        for lang, tracking in sent.items():
            assert tracking in body, f"the {lang} request is not in the queue"
        await page.context.close()


async def test_a_deficient_request_in_arabic_names_what_is_missing_and_takes_the_form(
    portal_app: FastAPI, portal_db: str, chromium: Any, tmp_path: Path
) -> None:
    request_id = _request(portal_db, status="deficient", summary=DEFICIENCIES)
    with session_scope(portal_db) as session:
        row = session.get(RecordRequest, request_id)
        assert row is not None
        tracking = row.tracking_number
    form = tmp_path / "corrected.pdf"
    form.write_bytes(small_pdf())
    async with served(portal_app) as portal:
        context = await chromium.new_context(viewport={"width": 390, "height": 844})
        page = await context.new_page()
        await page.goto(f"{portal}/status?lang=ar")
        await page.fill("#tracking_number", tracking)
        await page.fill("#date_of_birth", DOB.isoformat())
        await page.click("form[action='/status'] button[type=submit]")
        await page.wait_for_selector("#status-missing")
        await page.screenshot(path=str(ARTIFACTS / "status-deficient-ar.png"), full_page=True)
        assert len(await page.query_selector_all("#status-missing li")) == 3
        width: int = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        await page.set_input_files("#corrected_file", str(form))
        await page.click("#correction-form button[type=submit]")
        await page.wait_for_selector("#correction-received")
        await page.screenshot(path=str(ARTIFACTS / "status-correction-sent-ar.png"), full_page=True)
        await context.close()
