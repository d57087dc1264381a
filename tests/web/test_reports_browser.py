# ruff: noqa: F811  (the browser and base_url fixtures are imported from test_browser)
"""Issue 19 in Debian's Chromium (Playwright): a request page and a report printed (print
media: no navigation, no buttons or forms, black on white, one column) and a letter reprinted
from the page. Screenshots and PDFs go to test-artifacts/web/ (print-*.png, print-*.pdf)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from store.db import session_scope
from store.models import OutboundItem, RequestEvent
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

#: What must never show on paper.
SCREEN_ONLY = ("header.top", "form", "button", "nav")


async def _letter(database_url: str, rid: str) -> OutboundItem:
    for _ in range(1200):  # a minute at most (a loaded machine renders letters slowly)
        with session_scope(database_url) as session:
            found = (
                session.execute(
                    select(OutboundItem).where(
                        OutboundItem.request_id == rid, OutboundItem.channel == "letter"
                    )
                )
                .scalars()
                .first()
            )
            if found is not None:
                session.expunge(found)
                return found
        await asyncio.sleep(0.05)
    raise AssertionError("no letter was sent")


async def _visible(page: Any, selector: str) -> int:
    """How many elements matching `selector` take space on the page."""
    return int(
        await page.evaluate(
            """(sel) => [...document.querySelectorAll(sel)].filter(
                e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'
            ).length""",
            selector,
        )
    )


async def test_request_page_and_report_print_and_a_letter_is_reprinted(
    browser: Any, base_url: str, web_worker: Harness, web_db: str, staff: Staff
) -> None:
    data = factories.third_party(
        received_at=_received(3),
        authorization=factories.valid_authorization(signed=False),  # deficient: a letter says so
    )
    rid = await _submit(web_worker, data, lambda r: r.status == "deficient")
    letter = await _letter(web_db, rid)

    page = await _page(browser, base_url, staff.names["supervisor"])
    await page.goto(f"{base_url}/requests/{rid}")
    reprint = page.locator(f"#reprint-{letter.id}")
    assert await reprint.is_visible()  # on screen: the action is there
    await page.screenshot(path=str(ARTIFACTS / "print-request-screen.png"), full_page=True)

    await page.emulate_media(media="print")
    for selector in SCREEN_ONLY:
        assert await _visible(page, selector) == 0, selector
    assert await page.locator("#h-clocks").is_visible()
    assert await page.locator("#h-docs").is_visible()
    colours = await page.evaluate(
        """() => [getComputedStyle(document.body).backgroundColor,
                  getComputedStyle(document.querySelector('main')).color,
                  getComputedStyle(document.querySelector('.ck.bad')).color,
                  getComputedStyle(document.querySelector('.card')).backgroundColor]"""
    )
    # white paper, black text (the missing signature's ✗ too: the mark says it, not red),
    # cards untinted
    assert colours == ["rgb(255, 255, 255)", "rgb(0, 0, 0)", "rgb(0, 0, 0)", "rgba(0, 0, 0, 0)"]
    columns = await page.evaluate("() => getComputedStyle(document.querySelector('.cols')).display")
    assert columns == "block"  # one column on paper
    await page.screenshot(path=str(ARTIFACTS / "print-request.png"), full_page=True)
    pdf = await page.pdf(path=str(ARTIFACTS / "print-request.pdf"), format="Letter")
    assert pdf.startswith(b"%PDF")

    # Reprint: the stored letter, byte for byte, through the page's own form (its token).
    await page.emulate_media(media="screen")
    token = (
        await page.locator(f"#reprint-{letter.id} >> xpath=..")
        .locator("input[name=csrf_token]")
        .get_attribute("value")
    )
    assert letter.path
    with open(letter.path, "rb") as stored:
        expected = stored.read()
    got = await page.request.post(
        f"{base_url}/requests/{rid}/documents/{letter.id}/reprint",
        form={"csrf_token": token or ""},
        headers={"Origin": base_url},
    )
    assert got.status == 200 and got.headers["content-type"] == "application/pdf"
    assert await got.body() == expected
    with session_scope(web_db) as session:
        reprinted = session.execute(
            select(RequestEvent).where(
                RequestEvent.request_id == rid, RequestEvent.action == "letter.reprinted"
            )
        ).scalar_one()
    assert reprinted.actor == staff.ids["supervisor"]

    # A report on paper: the chart and the table, no filters, no download links.
    await page.goto(f"{base_url}/reports/compliance")
    assert await page.locator("#report-filters").is_visible()
    await page.emulate_media(media="print")
    assert await _visible(page, "#report-filters") == 0
    assert await _visible(page, "header.top") == 0
    assert await page.locator("svg#chart-compliance").is_visible()
    assert await page.locator("#report-table").is_visible()
    assert await page.locator("#report-scope").is_visible()  # what the paper covers
    await page.screenshot(path=str(ARTIFACTS / "print-report.png"), full_page=True)
    await page.pdf(path=str(ARTIFACTS / "print-report.pdf"), format="Letter", landscape=True)
    await page.context.close()
