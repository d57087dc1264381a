"""The other kinds' pages in Chromium (the helpers and fixtures of test_browser.py): axe-core
finds no serious or critical violation on any of them in any language, none scrolls sideways
at 390 px, and the death notice, with its certificate, is completed with the keyboard alone
(Tab, typing, Space to choose the file and tick the box, Enter to send) and reaches the read
model. Screenshots go to test-artifacts/portal/."""

from __future__ import annotations

from typing import Any

from portal import cases
from tests.portal.helpers import LANGUAGES
from tests.portal.test_browser import (
    ARTIFACTS,
    AXE,
    _axe,
    _page,
    _projected,
    _sideways,
    _tab_to,
    base_url,
    browser,
)
from tests.portal.upload_samples import small_pdf

__all__ = ["base_url", "browser"]  # the fixtures, shared with test_browser.py
PAGES = [spec.action for spec in cases.FORMS] + ["/request/outside-records"]


async def test_axe_and_390px_on_every_new_page_in_every_language(
    browser: Any, base_url: str
) -> None:
    page = await _page(browser, bypass_csp=AXE.exists())
    found: dict[str, list[str]] = {}
    wide: dict[str, int] = {}
    for lang in LANGUAGES:
        for path in PAGES:
            await page.goto(f"{base_url}{path}?lang={lang}")
            if (width := await _sideways(page)) > 390:
                wide[f"{path}?lang={lang}"] = width
            if AXE.exists() and (problems := await _axe(page)):
                found[f"{path}?lang={lang}"] = problems
            if lang in ("en", "ar") and path in ("/request/death-notice", "/request/proxy-access"):
                name = path.removeprefix("/request/")
                await page.screenshot(
                    path=str(ARTIFACTS / f"{name}-{lang}-390.png"), full_page=True
                )
    # a form with its errors shown, right to left, the file refused
    await page.goto(f"{base_url}/request/death-notice?lang=ar")
    await page.set_input_files(
        "#document_file",
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": b"<html></html>"},
    )
    await page.click("button[type=submit]")
    await page.wait_for_selector("#error-summary")
    await page.screenshot(path=str(ARTIFACTS / "death-notice-errors-ar.png"), full_page=True)
    assert await _sideways(page) <= 390
    if AXE.exists() and (problems := await _axe(page)):
        found["death-notice errors ar"] = problems
    assert not wide, wide
    assert not found, found


async def test_death_notice_by_keyboard_alone(browser: Any, base_url: str, portal_db: str) -> None:
    page = await _page(browser)
    await page.goto(f"{base_url}/request/death-notice?lang=en")
    typed = {
        "patient_first_name": "Keyboard",
        "patient_middle_name": "Only",
        "patient_last_name": "Testpatient",
        "requester_first_name": "Kim",
        "requester_last_name": "Testfamily",
        "reporter_relationship": "daughter",
        "phone": "507-555-0113",
    }
    for field in ("patient_first_name", "patient_middle_name", "patient_last_name"):
        await _tab_to(page, field)
        await page.keyboard.type(typed[field])
    await _tab_to(page, "patient_dob")
    await page.keyboard.type("05141940")
    await _tab_to(page, "site-arizona")  # Tab enters the group; the arrows choose in it
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    assert await page.is_checked("#site-minnesota")
    await _tab_to(page, "patient_dod")
    await page.keyboard.type("11202026")
    await _tab_to(page, "document_file")
    async with page.expect_file_chooser() as chooser:
        await page.keyboard.press("Space")
    await (await chooser.value).set_files(
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": small_pdf()}
    )
    for field in ("requester_first_name", "requester_last_name", "reporter_relationship", "phone"):
        await _tab_to(page, field)
        await page.keyboard.type(typed[field])
    await _tab_to(page, "consent")
    await page.keyboard.press("Space")
    await page.screenshot(path=str(ARTIFACTS / "death-notice-keyboard-en.png"), full_page=True)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#tracking-number")
    tracking = (await page.text_content("#tracking-number") or "").strip()
    row = await _projected(portal_db, tracking)
    assert (row.kind, row.site, row.language) == ("deceased_notice", "minnesota", "en")
