# ruff: noqa: F811  (the browser and base_url fixtures are imported from test_browser)
"""Every step from the web app, in Debian's Chromium (Playwright): a court order's checks, a
denied amendment's statement of disagreement and rebuttal, a proxy grant revoked, and the
other steps added with them. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import re
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
    _until,
    base_url,
    browser,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


async def _open(page: Any, spec: str) -> None:
    details = page.locator(f"#details-{spec}")
    if await details.count() and not await details.get_attribute("open"):
        await details.locator("summary").click()


async def test_a_court_order_page_shows_the_court_order_checks(
    browser: Any, base_url: str, web_worker: Harness, staff: Staff
) -> None:
    data = factories.third_party(
        kind="court_order",
        received_at=_received(1),
        authorization=None,
        legal_document=factories.COURT,  # not signed by a judge
    )
    rid = await _submit(web_worker, data, lambda r: r.status == "deficient")
    page = await _page(browser, base_url, staff.names["specialist"])
    await page.goto(f"{base_url}/requests/{rid}")
    legal = page.locator("#legal-checklist")
    assert await legal.is_visible()
    judge = legal.locator('[data-element="legal_document.signed_by_judge"]')
    assert "defect" in await judge.inner_text()
    assert await page.locator("#checklist").count() == 0  # no 164.508 list for a court order
    assert await page.locator("#form-verify").count() == 1
    assert await page.locator("#form-complete").count() == 0  # not releasable yet
    assert (
        "court order or subpoena is not a sufficient basis"
        in await page.locator("#not-yet-release").inner_text()
    )
    await page.screenshot(path=str(ARTIFACTS / "court-order.png"), full_page=True)
    await page.context.close()


async def test_a_denied_amendment_takes_the_statement_and_the_rebuttal(
    browser: Any, base_url: str, web_worker: Harness, staff: Staff
) -> None:
    rid = await _submit(web_worker, factories.amendment(received_at=_received(2)), lambda r: True)
    await _until(web_worker, rid, lambda r: r.status == "under_review")
    page = await _page(browser, base_url, staff.names["amendment"])
    await page.goto(f"{base_url}/requests/{rid}")
    await _open(page, "amendment_deny")
    await page.select_option("#amendment_deny-basis", "accurate_and_complete")
    await page.fill("#amendment_deny-explanation", "The allergy entry matches the source records.")
    await page.click("#form-amendment_deny button[type=submit]")
    await page.wait_for_load_state("networkidle")
    await _until(web_worker, rid, lambda r: r.status == "awaiting_disagreement")
    await page.reload()
    assert await page.locator("#form-amendment_disagreement").count() == 1
    assert await page.locator("#form-amendment_rebuttal").count() == 0
    assert await page.locator("#form-amendment_accept").count() == 0
    await _open(page, "amendment_disagreement")
    await page.fill("#amendment_disagreement-text", "I have never been allergic to penicillin.")
    await page.screenshot(path=str(ARTIFACTS / "amendment-denied.png"), full_page=True)
    await page.click("#form-amendment_disagreement button[type=submit]")
    await page.wait_for_selector("text=Statement of disagreement linked to the record.")
    assert await page.locator("#form-amendment_disagreement").count() == 0
    await _open(page, "amendment_rebuttal")
    await page.fill("#amendment_rebuttal-text", "The pharmacy's records confirm the reaction.")
    await page.screenshot(path=str(ARTIFACTS / "amendment-rebuttal.png"), full_page=True)
    await page.click("#form-amendment_rebuttal button[type=submit]")
    await page.wait_for_load_state("networkidle")
    await _until(web_worker, rid, lambda r: r.status == "completed")
    await page.reload()
    text = await page.locator("#timeline").inner_text()
    assert "amendment disagreement filed" in text and "amendment rebuttal filed" in text
    await page.context.close()


async def test_a_proxy_grant_is_revoked_from_the_page(
    browser: Any, base_url: str, web_worker: Harness, staff: Staff
) -> None:
    rid = await _submit(
        web_worker,
        factories.proxy_for_minor(received_at=_received(1)),
        lambda r: r.status == "under_review",
    )
    page = await _page(browser, base_url, staff.names["specialist"])
    await page.goto(f"{base_url}/requests/{rid}")
    await _open(page, "proxy_decide")
    await page.check('#form-proxy_decide input[value="approve"]')
    await page.check('#form-proxy_decide input[name="documents_verified"]')
    await page.click("#form-proxy_decide button[type=submit]")
    await page.wait_for_load_state("networkidle")
    await _until(web_worker, rid, lambda r: r.status == "active")
    await page.reload()
    await _open(page, "proxy_revoke")
    await page.fill("#proxy_revoke-reason", "The custody order was replaced.")
    await page.click("#form-proxy_revoke button[type=submit]")
    await page.wait_for_selector("text=Proxy access is being ended.")
    await _until(web_worker, rid, lambda r: r.status == "expired")
    await page.reload()
    assert re.search(r"proxy ended", await page.locator("#timeline").inner_text())
    await page.context.close()


async def test_the_packet_is_previewed_then_released_from_the_preview(
    browser: Any, base_url: str, web_worker: Harness, staff: Staff
) -> None:
    rid = await _submit(
        web_worker,
        factories.own_records(received_at=_received(1)),
        lambda r: r.status == "awaiting_verification",
    )
    page = await _page(browser, base_url, staff.names["specialist"])
    await page.goto(f"{base_url}/requests/{rid}")
    await page.click("#verify-button")
    await page.wait_for_selector("text=Identity verified.")
    await page.click("#packet-link")
    await page.wait_for_url(re.compile(rf"/requests/{rid}/packet$"))
    table = page.locator("#packet-table")
    assert await table.locator("tbody tr").count() >= 1
    assert int(await page.locator("#packet-pages").inner_text()) >= 1
    assert "matches the request" in await table.inner_text()
    await page.screenshot(path=str(ARTIFACTS / "packet-preview.png"), full_page=True)
    await page.click("#packet-release")
    await page.wait_for_selector("text=Release started.")
    await _until(web_worker, rid, lambda r: r.status == "completed")
    await page.context.close()


async def test_a_submission_kept_for_review_is_corrected_and_submitted(
    browser: Any, base_url: str, web_worker: Harness, staff: Staff
) -> None:
    data = factories.own_records(received_at=_received(3))
    data["patient"] = {**data["patient"], "date_of_birth": "1984-02-31"}
    refused = await web_worker.submit(data)
    assert not refused.accepted
    page = await _page(browser, base_url, staff.names["specialist"])
    await page.goto(f"{base_url}/intake/review")
    row = page.locator(f'[data-submission="{refused.submission_id}"]')
    assert "Use a date like 2026-12-31." in await row.inner_text()
    await page.screenshot(path=str(ARTIFACTS / "intake-review.png"), full_page=True)
    await row.get_by_text("Correct").click()
    await page.wait_for_url(re.compile(rf"/intake/review/{refused.submission_id}$"))
    box = page.locator("#review-submission")
    await box.fill((await box.input_value()).replace("1984-02-31", "1984-02-28"))
    await page.click("#review-submit")
    await page.wait_for_selector("text=Submitted as ROI-")
    assert await page.locator(f'[data-submission="{refused.submission_id}"]').count() == 0
    await page.context.close()
