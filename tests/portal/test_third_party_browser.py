"""The third-party authorization in a real browser (Chromium via Playwright, as
test_browser.py): completed and signed with the keyboard alone in English (the typed name is
the signature; the code is read from the outbox the mail path writes to), axe-core finds no
serious or critical violation and no page scrolls sideways at 390 px in any language, also
with its errors shown in Arabic. Screenshots go to test-artifacts/portal/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Harness
from tests.portal import test_browser as shared
from tests.portal.helpers import LANGUAGES
from tests.portal.test_browser import (
    ARTIFACTS,
    AXE,
    CHROMIUM,
    _axe,
    _page,
    _projected,
    _sideways,
    _tab_to,
)
from tests.portal.third_party_helpers import PATH, THIRD_PARTY, latest_code

#: The same fixtures as test_browser.py: the portal served by uvicorn, and Chromium.
base_url = shared.base_url
browser = shared.browser

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


async def test_third_party_axe_and_390px_in_every_language(browser: Any, base_url: str) -> None:
    page = await _page(browser, 390, bypass_csp=AXE.exists())
    found: dict[str, list[str]] = {}
    wide: dict[str, int] = {}
    for lang in LANGUAGES:
        await page.goto(f"{base_url}{PATH}?lang={lang}")
        if (width := await _sideways(page)) > 390:
            wide[lang] = width
        if lang in ("en", "ar"):
            shot = ARTIFACTS / f"third-party-{lang}-390.png"
            await page.screenshot(path=str(shot), full_page=True)
        if AXE.exists() and (problems := await _axe(page)):
            found[lang] = problems
    # its errors, right to left
    await page.goto(f"{base_url}{PATH}?lang=ar")
    await page.fill("#signer_email", "not-an-email")
    await page.click("#sign-and-send")
    await page.wait_for_selector("#error-summary")
    await page.screenshot(path=str(ARTIFACTS / "third-party-errors-ar-390.png"), full_page=True)
    if (width := await _sideways(page)) > 390:
        wide["errors ar"] = width
    if AXE.exists() and (problems := await _axe(page)):
        found["errors ar"] = problems
    assert not wide, wide
    assert not found, found


async def test_third_party_signed_by_keyboard_alone(
    browser: Any, base_url: str, portal_db: str, portal_worker: Harness
) -> None:
    page = await _page(browser)
    email = "keyboard.signer@example.org"
    await page.goto(f"{base_url}{PATH}?lang=en")

    async def type_into(field: str, text: str) -> None:
        await _tab_to(page, field)
        await page.keyboard.type(text)

    async def press_space_on(field: str) -> None:
        await _tab_to(page, field)
        await page.keyboard.press("Space")

    await _tab_to(page, "signer-patient")  # already chosen: I am the patient
    await type_into("patient_first_name", THIRD_PARTY["patient_first_name"])
    await type_into("patient_last_name", THIRD_PARTY["patient_last_name"])
    await type_into("patient_dob", "05141979")  # mm dd yyyy in an en-US date field
    await press_space_on("site-arizona")
    await type_into("records_description", THIRD_PARTY["records_description"])
    await type_into("recipient_name", THIRD_PARTY["recipient_name"])
    await press_space_on("delivery-email_link")
    await type_into("recipient_email", THIRD_PARTY["recipient_email"])
    await type_into("purpose", THIRD_PARTY["purpose"])
    await type_into("expiration_date", "12312027")
    for box in ("ack_revoke", "ack_conditioning", "ack_redisclosure", "esign_consent"):
        await press_space_on(box)
    await type_into("signer_email", email)
    await _tab_to(page, "code_request")
    await page.keyboard.press("Enter")  # "Email me a code": the same form comes back
    await page.wait_for_selector("#code-sent")
    assert await page.input_value("#recipient_name") == THIRD_PARTY["recipient_name"]
    await type_into("code", latest_code(portal_worker.outbox, email))
    await type_into("signature_name", "Portia Testpatient")  # the typed name is the signature
    await page.screenshot(path=str(ARTIFACTS / "third-party-keyboard-en.png"), full_page=True)
    await _tab_to(page, "sign-and-send")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#tracking-number")
    tracking = (await page.text_content("#tracking-number") or "").strip()
    row = await _projected(portal_db, tracking)
    assert (row.kind, row.site) == ("third_party", "arizona")
