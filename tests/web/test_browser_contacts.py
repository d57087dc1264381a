"""In Chromium: the status page's team contact, FedEx tracking number and receipt; the request
page's receipt, contact and site-holiday flag (issue 15). Screenshots in test-artifacts/web/."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from tests.web.helpers import PASSWORD, add_staff, insert_request
from tests.web.test_browser import ARTIFACTS, _page, base_url, browser  # noqa: F401
from tests.web.test_contacts_receipts import DOB, _shipped_and_paid


async def test_status_and_request_page_show_contact_receipt_and_holiday(
    web_app: FastAPI,
    web_db: str,
    base_url: str,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    request_id, tracking = _shipped_and_paid(web_db)
    context = await browser.new_context(viewport={"width": 1000, "height": 900})
    public = await context.new_page()
    await public.goto(f"{base_url}/status")
    await public.fill("#tracking_number", tracking)
    await public.fill("#date_of_birth", DOB.isoformat())
    await public.click("button[type=submit]")
    await public.wait_for_selector("#status-result")
    assert await public.inner_text("#status-fedex") == "794600001111"
    contact = await public.inner_text("#status-contact")
    assert "MAYOHIMSROI@mayo.edu" in contact and "Fax 507-284-0161" in contact
    await public.screenshot(path=str(ARTIFACTS / "status-fedex-receipt.png"), full_page=True)

    add_staff(web_db, "web.browser.receipt", PASSWORD, "specialist", ["minnesota"])
    page = await _page(browser, base_url, "web.browser.receipt")
    await page.goto(f"{base_url}/requests/{request_id}")
    assert "FX-PAY-77" in await page.inner_text("#payment-receipts")
    assert "MAYOHIMSROI@mayo.edu" in await page.inner_text("#team-contact")
    await page.screenshot(path=str(ARTIFACTS / "request-receipt-contact.png"), full_page=True)

    holiday = insert_request(
        web_db,
        site="minnesota",
        due_date=date(2026, 12, 25),
        received_at=datetime.now(UTC) - timedelta(days=2),
    )
    await page.goto(f"{base_url}/requests/{holiday}")
    assert "site holiday" in await page.inner_text("#holiday-due")
    await page.screenshot(path=str(ARTIFACTS / "request-holiday-due.png"))
    await page.goto(f"{base_url}/queue?site=minnesota")
    assert await page.locator(f'tr[data-request="{holiday}"] [data-holiday-due]').count() == 1
    await page.screenshot(path=str(ARTIFACTS / "queue-holiday-due.png"))
