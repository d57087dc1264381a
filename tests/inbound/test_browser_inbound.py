"""In Chromium: the split screen shows the faxed pages beside the fields read from them, each
with the text it was read from, and the 164.508 elements found or missing; the specialist
corrects a field and submits, and lands on the request. Screenshots in test-artifacts/web/."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from activities.ocr import as_pdf, page_images
from domain.documents import extract
from store import documents
from store.db import session_scope
from tests.inbound.conftest import needs_ocr, scan_of
from tests.inbound.test_reading_rules import ENGLISH
from tests.web.helpers import PASSWORD, add_staff
from tests.web.test_browser import ARTIFACTS, _page, base_url, browser  # noqa: F401

pytestmark = needs_ocr  # pdftoppm draws the pages


def _read_document(database_url: str) -> str:
    """A faxed form stored and read (its page images drawn by pdftoppm; its reading from the
    text Tesseract gives for such a form: OCR itself is tested in test_ocr_to_request)."""
    content = scan_of("en", "pdf")
    with session_scope(database_url) as session:
        document_id, _ = documents.store(
            session,
            channel="fax",
            site="minnesota",
            received_at=datetime.now(UTC) - timedelta(hours=3),
            content=content,
            content_type="application/pdf",
        )
    pages = page_images(as_pdf(content))
    first_page_only = ENGLISH.split("\f")[0]  # as if the second page was lost: elements missing
    with session_scope(database_url) as session:
        documents.record_reading(
            session,
            document_id,
            ocr_text=first_page_only,
            extraction=extract(first_page_only).model_dump(mode="json"),
            pages=pages,
        )
    return document_id


async def test_the_split_screen_shows_the_pages_beside_the_fields(
    web_app: FastAPI,
    web_db: str,
    base_url: str,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    document_id = _read_document(web_db)
    add_staff(web_db, "web.browser.intake", PASSWORD, "specialist", ["minnesota"])
    page = await _page(browser, base_url, "web.browser.intake")
    await page.goto(f"{base_url}/intake/documents")
    row = page.locator(f'tr[data-document="{document_id}"]')
    assert "Read: confirm the fields" in await row.inner_text()
    await page.screenshot(path=str(ARTIFACTS / "intake-list.png"), full_page=True)
    await row.locator("a").click()
    await page.wait_for_selector("#split-screen")
    await page.wait_for_function(
        "(() => { const img = document.querySelector('#page-1');"
        " return img.complete && img.naturalWidth > 0; })()"
    )
    assert await page.input_value("#f-patient\\.last_name") == "Testwell"
    assert await page.input_value("#f-patient\\.date_of_birth") == "1984-03-14"
    assert await page.input_value("#f-kind") == "third_party"
    source = await page.inner_text('[data-source="patient.date_of_birth"]')
    assert "Date of birth 03/14/1984" in source
    missing = page.locator('li.missing[data-element="signature"]')
    assert await missing.count() == 1
    assert await page.locator('li.found[data-element="recipient"]').count() == 1
    await page.screenshot(path=str(ARTIFACTS / "intake-split-screen.png"))

    # the signature was on the lost page; the specialist saw it on the paper copy
    await page.check("#f-authorization\\.signed")
    await page.fill("#f-authorization\\.signature_date", "2026-11-20")
    await page.fill("#f-requester\\.phone", "507-555-0100")
    await page.click("#doc-submit")
    await page.wait_for_url("**/requests/**")
    attached = page.locator(f'.received-document[data-document="{document_id}"]')
    for _ in range(60):  # the workflow projects the request's row in a moment
        if await attached.count():
            break
        await asyncio.sleep(0.5)
        await page.reload()
    assert await attached.count() == 1
    await page.screenshot(path=str(ARTIFACTS / "intake-request-with-document.png"))
