# ruff: noqa: F811  (the browser and base_url fixtures are imported from test_browser)
"""Issue 19 in Debian's Chromium (Playwright): a specialist on the phone types part of the
patient's name into the header's search box on the queue page, sees the request among the
results and opens it; then finds a request closed late by its MRN and reads that it was
completed 3 days late. Screenshots go to test-artifacts/web/ (search-results.png,
search-opened.png, search-closed-late.png)."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import insert_request
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    CHROMIUM,
    _page,
    _submit,
    _tracking,
    base_url,
    browser,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


def _surname() -> str:
    return "Qv" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(7))


async def test_the_header_search_finds_and_opens_a_request(
    browser: Any, base_url: str, web_worker: Harness, web_db: str, staff: Staff
) -> None:
    surname = _surname().capitalize()
    data = factories.own_records(received_at=(datetime.now(UTC) - timedelta(hours=2)).isoformat())
    data["patient"].update(first_name="Marisol", last_name=surname, mrn=None)
    data["requester"].update(first_name="Marisol", last_name=surname)
    rid = await _submit(web_worker, data, lambda row: row.status != "received")
    tracking = _tracking(web_db, rid)

    page = await _page(browser, base_url, staff.names["specialist"])
    assert "/queue" in page.url
    await page.fill("#top-search-q", f"mari {surname[:5].lower()}")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    rows = page.locator("#search-results tbody tr[data-request]")
    assert await rows.count() == 1
    row = rows.first
    text = await row.inner_text()
    assert tracking in text and f"Marisol {surname}" in text and "1984-03-09" in text
    assert "Minnesota" in text and "access own" in text and "Open" in text
    assert "1 request found by patient name" in await page.inner_text("#search-summary")
    await page.screenshot(path=str(ARTIFACTS / "search-results.png"), full_page=True)

    async with page.expect_navigation():
        await row.locator("a").click()
    assert page.url.endswith(f"/requests/{rid}")
    assert tracking in await page.inner_text("h1")
    await page.screenshot(path=str(ARTIFACTS / "search-opened.png"), full_page=True)

    # a request closed after its legal due date is found by MRN, and says so
    mrn = "QV" + "".join(secrets.choice(string.digits) for _ in range(8))
    received = datetime.now(UTC).replace(hour=18, minute=0) - timedelta(days=50)
    due = received + timedelta(days=30)
    late = insert_request(
        web_db,
        patient_name=f"Ilse {_surname().capitalize()}",
        patient_mrn=mrn,
        received_at=received,
        due_date=due.date(),
        status="completed",
        closed_at=due + timedelta(days=3),
        breached=True,
    )
    await page.fill("#top-search-q", mrn.lower())
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    closed = page.locator(f'#search-results tr[data-request="{late}"]')
    standing = await closed.locator("td.standing").inner_text()
    assert "Closed" in standing and "completed 3 days late" in standing
    assert "calendar days" in standing
    await page.screenshot(path=str(ARTIFACTS / "search-closed-late.png"), full_page=True)
    await page.context.close()
