"""The friends-and-family page in Chromium (the helpers and fixtures of test_browser.py): axe-core
finds no serious or critical violation in any language, it never scrolls sideways at 390 px,
and a patient completes it with the keyboard alone (Tab, typing, Space, Enter); the agreement
is stored and accepted. Screenshots go to test-artifacts/portal/."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from store.db import session_scope
from store.friends_family import FriendsFamilyAuthorization
from tests.portal.helpers import LANGUAGES
from tests.portal.test_browser import (
    ARTIFACTS,
    AXE,
    _axe,
    _page,
    _sideways,
    _tab_to,
    base_url,
    browser,
)

__all__ = ["base_url", "browser"]  # the fixtures, shared with test_browser.py
PATH = "/request/friends-family"


async def test_axe_and_390px_in_every_language(browser: Any, base_url: str) -> None:
    page = await _page(browser, bypass_csp=AXE.exists())
    found: dict[str, list[str]] = {}
    wide: dict[str, int] = {}
    for lang in LANGUAGES:
        await page.goto(f"{base_url}{PATH}?lang={lang}")
        if (width := await _sideways(page)) > 390:
            wide[lang] = width
        if AXE.exists() and (problems := await _axe(page)):
            found[lang] = problems
        if lang in ("en", "ar"):
            shot = ARTIFACTS / f"friends-family-{lang}-390.png"
            await page.screenshot(path=str(shot), full_page=True)
    # sent empty, right to left: every error shown
    await page.goto(f"{base_url}{PATH}?lang=ar")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#error-summary")
    assert await _sideways(page) <= 390
    if AXE.exists() and (problems := await _axe(page)):
        found["errors ar"] = problems
    assert not wide, wide
    assert not found, found


async def test_an_agreement_by_keyboard_alone(browser: Any, base_url: str, portal_db: str) -> None:
    page = await _page(browser)
    await page.goto(f"{base_url}{PATH}?lang=en")
    for field, text in (
        ("patient_first_name", "Keyboard"),
        ("patient_last_name", "Testpatient"),
    ):
        await _tab_to(page, field)
        await page.keyboard.type(text)
    await _tab_to(page, "patient_dob")
    await page.keyboard.type("03021961")
    await _tab_to(page, "site-arizona")  # Tab enters the group; the arrows choose in it
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    assert await page.is_checked("#site-minnesota")
    for field, text in (
        ("person_1_name", "Robin Testfamily"),
        ("person_1_relationship", "daughter"),
    ):
        await _tab_to(page, field)
        await page.keyboard.type(text)
    await _tab_to(page, "scope_appointments")
    await page.keyboard.press("Space")
    await _tab_to(page, "signature_name")
    await page.keyboard.type("Keyboard Testpatient")
    await _tab_to(page, "consent")
    await page.keyboard.press("Space")
    await page.screenshot(path=str(ARTIFACTS / "friends-family-keyboard-en.png"), full_page=True)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#reference")
    reference = (await page.text_content("#reference") or "").strip()
    assert reference.startswith("FF-"), reference
    with session_scope(portal_db) as session:
        stored = session.execute(select(FriendsFamilyAuthorization)).scalars().all()
        mine = [r for r in stored if reference.endswith(r.id[-5:]) and r.outcome == "accepted"]
        assert mine, [r.outcome for r in stored]
        assert mine[0].site == "minnesota"
        assert "appointments" in json.dumps(mine[0].payload)  # the one scope ticked
