# ruff: noqa: F811  (the browser and base_url fixtures are imported from test_browser)
"""Issue 15's steps that had only a CLI, in Debian's Chromium (Playwright): a disclosure made
outside the engine recorded from a request's page, a site's batch previewed and run, intake
API tokens created and revoked, and an account's sign-in delay cleared. Screenshots go to
test-artifacts/web/."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    CHROMIUM,
    _page,
    _received,
    _submit,
    base_url,
    browser,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


async def test_a_disclosure_made_outside_the_engine_from_the_request_page(
    browser: Any, base_url: str, web_worker: Harness, staff: Staff
) -> None:
    rid = await _submit(
        web_worker,
        factories.own_records(received_at=_received(1)),
        lambda r: r.status == "awaiting_verification",
    )
    page = await _page(browser, base_url, staff.names["specialist"])
    await page.goto(f"{base_url}/requests/{rid}")
    await page.click("#disclosures-link")
    await page.wait_for_url(re.compile(rf"/requests/{rid}/disclosures$"))
    # a refusal first: nothing filled in but the recipient
    await page.fill("#d-recipient", "Hennepin County Sheriff")
    await page.click("#form-disclosure button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "This is required." in await page.locator('[data-field="description"]').inner_text()
    assert "This is required." in await page.locator('[data-field="category"]').inner_text()
    assert await page.input_value("#d-recipient") == "Hennepin County Sheriff"  # kept
    await page.screenshot(path=str(ARTIFACTS / "disclosure-refused.png"), full_page=True)
    when = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    await page.fill("#d-when", when)
    await page.fill("#d-description", "Emergency department note of 2026-01-03")
    await page.fill("#d-purpose", "Law enforcement request under a warrant")
    await page.select_option("#d-category", "law_enforcement")
    await page.select_option("#d-method", "email_link")
    await page.click("#form-disclosure button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "Disclosure recorded." in await page.locator(".flash").inner_text()
    table = await page.locator("#disclosures-table").inner_text()
    assert "Hennepin County Sheriff" in table and "outside the engine" in table
    await page.screenshot(path=str(ARTIFACTS / "disclosure-recorded.png"), full_page=True)
    await page.context.close()
    # the supervisor sees it in the request's audit trail
    page = await _page(browser, base_url, staff.names["supervisor"])
    await page.goto(f"{base_url}/requests/{rid}/audit")
    assert await page.locator("#audit-table").get_by_text("disclosure.recorded").count() == 1
    await page.context.close()


async def test_a_supervisor_previews_and_runs_a_sites_batch(
    browser: Any, base_url: str, web_worker: Harness, staff: Staff
) -> None:
    page = await _page(browser, base_url, staff.names["supervisor"])
    await page.goto(f"{base_url}/board")
    await page.click("#batch-wisconsin")
    await page.wait_for_url(re.compile(r"/board/batch/wisconsin$"))
    assert await page.locator("#next-run").is_visible()
    await page.screenshot(path=str(ARTIFACTS / "batch-preview.png"), full_page=True)
    await page.click("#form-batch-run button[type=submit]")
    await page.wait_for_load_state("networkidle")
    flash = await page.locator(".flash").inner_text()
    found = re.search(r"Batch run (roi-batch-wisconsin-manual-\S+) started", flash)
    assert found, flash
    row = page.locator(f'#batch-history tr[data-batch="{found.group(1)}"]')
    for _ in range(100):  # the run's row (once its workflow recorded it), then its result
        if await row.count() and await row.get_attribute("data-status") not in (None, "running"):
            break
        await asyncio.sleep(0.1)
        await page.reload()
    assert await row.get_attribute("data-status") == "finished"
    await page.screenshot(path=str(ARTIFACTS / "batch-run.png"), full_page=True)
    await page.context.close()


async def test_an_admin_creates_and_revokes_an_intake_token(
    browser: Any, base_url: str, staff: Staff
) -> None:
    page = await _page(browser, base_url, staff.names["admin"])
    await page.goto(f"{base_url}/admin/users")
    await page.click("#tokens-link")
    await page.wait_for_url(re.compile(r"/admin/tokens$"))
    await page.fill("#token-name", "patient-portal-browser")
    await page.click("#form-token button[type=submit]")
    await page.wait_for_load_state("networkidle")
    secret = await page.input_value("#token-value")
    assert secret.startswith("roi_")
    await page.screenshot(path=str(ARTIFACTS / "token-created.png"), full_page=True)
    await page.goto(f"{base_url}/admin/tokens")  # shown once: never again
    assert await page.locator("#token-value").count() == 0
    assert secret not in await page.content()
    await page.click("#revoke-patient-portal-browser")
    await page.wait_for_load_state("networkidle")
    assert "is revoked" in await page.locator(".flash").inner_text()
    row = page.locator('#tokens tr[data-client="patient-portal-browser"]')
    assert "revoked" in await row.inner_text()
    await page.screenshot(path=str(ARTIFACTS / "token-revoked.png"), full_page=True)
    await page.context.close()


async def test_an_admin_clears_an_accounts_sign_in_delay(
    browser: Any, base_url: str, staff: Staff
) -> None:
    name = staff.names["integrity"]
    for _ in range(5):  # five wrong passwords: the account must now wait
        context = await browser.new_context()
        attempt = await context.new_page()
        await attempt.goto(f"{base_url}/login")
        await attempt.fill("#username", name)
        await attempt.fill("#password", "not-the-password")
        await attempt.keyboard.press("Enter")
        await attempt.wait_for_load_state("networkidle")
        await context.close()
    page = await _page(browser, base_url, staff.names["admin"])
    await page.goto(f"{base_url}/admin/users")
    await page.click(f'[id="clear-delay-{name}"]')
    await page.wait_for_load_state("networkidle")
    assert f"{name} may sign in again now" in await page.locator(".flash").inner_text()
    await page.screenshot(path=str(ARTIFACTS / "sign-in-delay-cleared.png"), full_page=True)
    await page.context.close()
    again = await _page(browser, base_url, name)  # at once, with the right password
    assert "/login" not in again.url
    await again.context.close()
