"""The portal in a real browser (Debian's Chromium driven by Playwright): axe-core (from the
npm registry, injected by Playwright) finds no serious or critical violation on the home page
and the forms in any language, the own-records form is completed with the keyboard alone, no
page scrolls sideways at 390 px, and a request sent in Arabic reaches the read model the staff
queue reads, its status shown in Arabic. Screenshots go to test-artifacts/portal/."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from store.db import session_scope
from store.models import RecordRequest
from tests.portal.helpers import LANGUAGES, OWN_RECORDS, PAGES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "portal"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: What axe checks: WCAG 2.0 and 2.1, A and AA, and its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
async def base_url(portal_app: FastAPI) -> AsyncIterator[str]:
    """The portal served by uvicorn in this event loop (the test's worker shares it)."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(portal_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
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


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover
        pytest.skip("playwright is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        await b.close()


async def _page(browser: Any, width: int = 390, *, bypass_csp: bool = False) -> Any:
    """A phone-sized page (axe's script is injected inline: only its pages bypass the CSP)."""
    context = await browser.new_context(
        viewport={"width": width, "height": 844}, bypass_csp=bypass_csp, locale="en-US"
    )
    return await context.new_page()


async def _axe(page: Any) -> list[str]:
    """Serious and critical violations on the page, one line each."""
    await page.add_script_tag(content=AXE.read_text())
    result = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def _sideways(page: Any) -> int:
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width


async def test_axe_finds_nothing_serious_in_any_language(browser: Any, base_url: str) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed (scripts/test: npm install axe-core@4)")
    page = await _page(browser, 1280, bypass_csp=True)
    found: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for path in PAGES:
            await page.goto(f"{base_url}{path}?lang={lang}")
            problems = await _axe(page)
            if problems:
                found[f"{path}?lang={lang}"] = problems
    # a form with its errors shown, right to left
    await page.goto(f"{base_url}/request/own-records?lang=ar")
    await page.fill("#email", "not-an-email")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#error-summary")
    await page.screenshot(path=str(ARTIFACTS / "own-records-errors-ar.png"), full_page=True)
    problems = await _axe(page)
    if problems:
        found["own-records errors ar"] = problems
    assert not found, found


async def test_no_page_scrolls_sideways_at_390px(browser: Any, base_url: str) -> None:
    page = await _page(browser)
    wide: dict[str, int] = {}
    for lang in LANGUAGES:
        for path in PAGES:
            await page.goto(f"{base_url}{path}?lang={lang}")
            if (width := await _sideways(page)) > 390:
                wide[f"{path}?lang={lang}"] = width
            if lang in ("en", "ar"):
                name = path.strip("/").replace("/", "-") or "home"
                shot = ARTIFACTS / f"{name}-{lang}-390.png"
                await page.screenshot(path=str(shot), full_page=True)
    assert not wide, wide


async def _tab_to(page: Any, element_id: str, limit: int = 80) -> None:
    """Press Tab until this element has the focus (the keyboard alone, as a person would)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


async def _projected(database_url: str, tracking: str) -> RecordRequest:
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


async def test_own_records_by_keyboard_alone(browser: Any, base_url: str, portal_db: str) -> None:
    page = await _page(browser)
    await page.goto(f"{base_url}/request/own-records?lang=en")
    typed = {
        "patient_first_name": OWN_RECORDS["patient_first_name"],
        "patient_last_name": OWN_RECORDS["patient_last_name"],
        "records_description": OWN_RECORDS["records_description"],
        "email": OWN_RECORDS["email"],
        "phone": OWN_RECORDS["phone"],
    }
    await _tab_to(page, "relationship-self")  # already chosen: I am the patient
    for field in ("patient_first_name", "patient_last_name"):
        await _tab_to(page, field)
        await page.keyboard.type(typed[field])
    await _tab_to(page, "patient_dob")
    await page.keyboard.type("05141979")  # mm dd yyyy in an en-US date field
    await _tab_to(page, "site-arizona")
    await page.keyboard.press("Space")
    await _tab_to(page, "records_description")
    await page.keyboard.type(typed["records_description"])
    await _tab_to(page, "delivery-email_link")
    await page.keyboard.press("Space")
    for field in ("email", "phone"):
        await _tab_to(page, field)
        await page.keyboard.type(typed[field])
    await _tab_to(page, "consent")
    await page.keyboard.press("Space")
    await page.screenshot(path=str(ARTIFACTS / "own-records-keyboard-en.png"), full_page=True)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#tracking-number")
    await page.screenshot(path=str(ARTIFACTS / "confirmation-en.png"), full_page=True)
    tracking = (await page.text_content("#tracking-number") or "").strip()
    row = await _projected(portal_db, tracking)
    assert (row.kind, row.site, row.delivery_method) == ("access_own", "arizona", "email_link")


async def test_own_records_in_arabic_reaches_the_staff_queue(
    browser: Any, base_url: str, portal_db: str
) -> None:
    page = await _page(browser, bypass_csp=AXE.exists())  # axe on the status result below
    await page.goto(f"{base_url}/request/own-records?lang=ar")
    assert await page.get_attribute("html", "dir") == "rtl"
    for name in ("patient_first_name", "patient_last_name", "records_description", "email"):
        await page.fill(f"#{name}", OWN_RECORDS[name])
    await page.fill("#patient_dob", OWN_RECORDS["patient_dob"])
    await page.check("#site-minnesota")
    await page.check("#delivery-fedex")
    assert "US$" in (await page.text_content("#fee-summary") or "")  # shown before sending
    for name in ("address_line1", "address_city", "address_state", "address_postal_code"):
        await page.fill(f"#{name}", OWN_RECORDS[name])
    await page.check("#consent")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#tracking-number")
    await page.screenshot(path=str(ARTIFACTS / "confirmation-ar.png"), full_page=True)
    tracking = (await page.text_content("#tracking-number") or "").strip()
    row = await _projected(portal_db, tracking)
    assert (row.language, row.delivery_method) == ("ar", "fedex")
    # and its status, in Arabic, from the confirmation's own link
    await page.click("a.button")
    await page.fill("#tracking_number", tracking)
    await page.fill("#date_of_birth", OWN_RECORDS["patient_dob"])
    await page.click("button[type=submit]")
    await page.wait_for_selector("#status-result")
    await page.screenshot(path=str(ARTIFACTS / "status-result-ar.png"), full_page=True)
    assert await _sideways(page) <= 390
    if AXE.exists():
        assert not await _axe(page)
