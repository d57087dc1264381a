"""Every kind of request the portal takes, end to end in Chromium: own records, imaging, the
third-party authorization (signed with the code emailed to the signer, read from the outbox),
revocation, amendment, proxy access (with its legal document), a billing question, the death
notice (with its certificate) and the adoption notice (with its decree), each sent in English
and in Arabic; then a staff member of each team signs in once (password and authenticator
code) and finds every one of its team's tracking numbers in `/queue`. Also the imaging request
and the billing question completed with the keyboard alone. Fields are filled directly here;
keyboard-only completion is what the keyboard tests (and test_browser.py, test_cases_browser.py
and test_third_party_browser.py) check. Screenshots go to test-artifacts/portal/."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from store.models import RecordRequest
from tests.harness import Harness
from tests.portal.helpers import OWN_RECORDS
from tests.portal.staff_helpers import served, signed_in, staff_app
from tests.portal.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    _page,
    _projected,
    _tab_to,
    base_url,
    browser,
)
from tests.portal.third_party_helpers import THIRD_PARTY, latest_code
from tests.portal.upload_samples import small_pdf
from tests.web.helpers import add_staff

__all__ = ["base_url", "browser"]  # the fixtures, shared with test_browser.py

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)
#: No other portal browser test sends Florida: the queues below are filtered to it.
SITE = "florida"
LANGS = ("en", "ar")
PATIENT = {
    "patient_first_name": "Portia",
    "patient_last_name": "Testpatient",
    "patient_dob": "1979-05-14",
}
CONTACT = {"email": "portia.testpatient@example.org", "phone": "507-555-0111"}
PARENT = {"requester_first_name": "Parker", "requester_last_name": "Testparent"}
#: Each case form's slug: its text fields, its radio choices (name, value) and its file.
CASES: dict[str, tuple[dict[str, str], list[tuple[str, str]], bool]] = {
    "revocation": (
        {**PATIENT, **CONTACT, "authorizations": "ROI-AB12C-3DE45"},
        [("relationship", "self")],
        False,
    ),
    "amendment": (
        {
            **PATIENT,
            **CONTACT,
            "record_description": "Allergy list in the 2025 visit notes",
            "requested_change": "Remove penicillin",
            "reason": "I was tested and am not allergic",
        },
        [("relationship", "self")],
        False,
    ),
    "proxy-access": (
        {**PATIENT, **CONTACT, **PARENT, "patient_dob": "2016-03-02"},
        [("basis", "parent_of_minor"), ("document_kind", "birth_certificate")],
        True,
    ),
    "billing": (
        {**PATIENT, **CONTACT, "question": "Why was I billed twice for one visit?"},
        [("relationship", "self")],
        False,
    ),
    "death-notice": (
        {
            **PATIENT,
            **PARENT,
            "patient_middle_name": "Quinn",
            "patient_dod": "2026-11-20",
            "reporter_relationship": "son",
            "phone": "507-555-0112",
        },
        [],
        True,
    ),
    "adoption-notice": (
        {**PATIENT, **CONTACT, **PARENT, "patient_dob": "2020-01-01"},
        [("document_type", "adoption_decree")],
        True,
    ),
}
#: The kind stored for each form, and the team whose queue it lands in (domain/kinds/intake.py).
KIND = {
    "own-records": ("access_own", "roi"),
    "imaging": ("imaging", "roi"),
    "third-party": ("third_party", "roi"),
    "revocation": ("revocation", "roi"),
    "amendment": ("amendment", "amendment"),
    "proxy-access": ("proxy_access", "roi"),
    "billing": ("billing", "billing"),
    "death-notice": ("deceased_notice", "data_integrity"),
    "adoption-notice": ("adoption_notice", "data_integrity"),
}
#: Who works each team's queue (app/roles.py TEAMS): the role of the account signed in.
#: Kinds answered at once, never in a queue: a revocation is applied the moment it is received
#: (workflows/revocation.py) and closed; its team finds it by the header's search instead.
AT_ONCE = {"revocation"}
ROLE = {
    "roi": "specialist",
    "billing": "specialist",
    "amendment": "amendment_specialist",
    "data_integrity": "data_integrity_specialist",
}


async def _sent(page: Any, name: str) -> str:
    """Send the form and return the tracking number shown (or fail with the errors listed)."""
    await page.wait_for_selector("#tracking-number, #error-summary")
    if await page.query_selector("#error-summary"):
        await page.screenshot(path=str(ARTIFACTS / f"every-kind-{name}-errors.png"), full_page=True)
        raise AssertionError(f"{name}: {await page.text_content('#error-summary')}")
    await page.screenshot(path=str(ARTIFACTS / f"every-kind-{name}.png"), full_page=True)
    return (await page.text_content("#tracking-number") or "").strip()


async def _records(page: Any, base: str, slug: str, lang: str) -> str:
    """Own records or imaging, a secure link by email."""
    await page.goto(f"{base}/request/{slug}?lang={lang}")
    for name in ("patient_first_name", "patient_last_name", "records_description", "email"):
        await page.fill(f"#{name}", OWN_RECORDS[name])
    await page.fill("#patient_dob", OWN_RECORDS["patient_dob"])
    await page.check(f"#site-{SITE}")
    await page.check("#delivery-email_link")
    await page.check("#consent")
    await page.click("button[type=submit]")
    return await _sent(page, f"{slug}-{lang}")


async def _third_party(page: Any, base: str, lang: str, outbox: Any) -> str:
    """The authorization filled in, a code emailed to the signer, signed with it."""
    email = f"every.kind.{lang}@example.org"
    await page.goto(f"{base}/request/third-party?lang={lang}")
    for name in (
        "patient_first_name",
        "patient_last_name",
        "patient_dob",
        "records_description",
        "recipient_name",
        "recipient_email",
        "purpose",
        "expiration_date",
    ):
        await page.fill(f"#{name}", THIRD_PARTY[name])
    await page.check(f"#site-{SITE}")
    await page.check("#delivery-email_link")
    for box in ("ack_revoke", "ack_conditioning", "ack_redisclosure", "esign_consent"):
        await page.check(f"#{box}")
    await page.fill("#signer_email", email)
    await page.click("#code_request")
    await page.wait_for_selector("#code-sent, #error-summary")
    if await page.query_selector("#error-summary"):
        raise AssertionError(f"third-party code: {await page.text_content('#error-summary')}")
    await page.fill("#code", latest_code(outbox, email))
    await page.fill("#signature_name", THIRD_PARTY["signature_name"])
    await page.click("#sign-and-send")
    return await _sent(page, f"third-party-{lang}")


async def _case(page: Any, base: str, slug: str, lang: str) -> str:
    """One of the case forms (portal/cases.py), its document attached if it takes one."""
    texts, choices, upload = CASES[slug]
    await page.goto(f"{base}/request/{slug}?lang={lang}")
    for name, value in texts.items():
        await page.fill(f"#{name}", value)
    for name, value in [("site", SITE), *choices]:
        await page.check(f"#{name}-{value}")
    if upload:
        await page.set_input_files(
            "#document_file",
            {"name": "document.pdf", "mimeType": "application/pdf", "buffer": small_pdf()},
        )
    await page.check("#consent")
    await page.click("button[type=submit]")
    return await _sent(page, f"{slug}-{lang}")


async def _closed(database_url: str, tracking: str) -> RecordRequest:
    """The read model's row once its workflow has closed it."""
    for _ in range(200):
        row = await _projected(database_url, tracking)
        if row.closed_at is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"{tracking} was never closed")


async def test_every_kind_in_english_and_arabic_reaches_its_teams_queue(
    browser: Any,
    base_url: str,
    portal_db: str,
    portal_env: WorkflowEnvironment,
    portal_worker: Harness,
) -> None:
    page = await _page(browser)
    sent: dict[tuple[str, str], str] = {}
    for lang in LANGS:
        for slug in ("own-records", "imaging"):
            sent[slug, lang] = await _records(page, base_url, slug, lang)
        sent["third-party", lang] = await _third_party(page, base_url, lang, portal_worker.outbox)
        for slug in CASES:
            sent[slug, lang] = await _case(page, base_url, slug, lang)
    await page.context.close()
    assert len(set(sent.values())) == len(sent) == 2 * len(KIND)

    # each reached the read model the queues read, in its language, on its team
    for (slug, lang), tracking in sent.items():
        row = await _projected(portal_db, tracking)
        assert (row.kind, row.team, row.language, row.site, row.channel) == (
            *KIND[slug],
            lang,
            SITE,
            "portal",
        ), slug
        if slug in AT_ONCE:
            assert (await _closed(portal_db, tracking)).status == "completed", slug

    # one sign-in per role; each role's queue, filtered to this site and the portal
    roles = sorted(set(ROLE.values()))
    for role in roles:
        add_staff(portal_db, f"every-kind-{role}", role=role)
    async with served(staff_app(portal_db, portal_env, portal_worker)) as staff:
        missing: dict[str, list[str]] = {}
        for role in roles:
            page = await signed_in(browser, staff, portal_db, f"every-kind-{role}")
            await page.goto(f"{staff}/queue?site={SITE}&channel=portal")
            await page.screenshot(
                path=str(ARTIFACTS / f"every-kind-queue-{role}.png"), full_page=True
            )
            body = await page.text_content("body") or ""
            for (slug, lang), tracking in sent.items():
                if ROLE[KIND[slug][1]] != role:
                    continue
                if slug not in AT_ONCE and tracking not in body:
                    missing.setdefault(role, []).append(f"{slug} {lang} {tracking}")
                if slug in AT_ONCE:
                    assert tracking not in body, f"{slug} {lang} is closed yet in the queue"
                    await page.goto(f"{staff}/search?q={tracking}")
                    await page.screenshot(
                        path=str(ARTIFACTS / f"every-kind-search-{slug}-{lang}.png"),
                        full_page=True,
                    )
                    found = await page.text_content("main") or ""
                    if tracking not in found or "ompleted" not in found:
                        missing.setdefault(role, []).append(f"{slug} {lang} {tracking} (search)")
            await page.context.close()
    assert not missing, missing


async def test_imaging_by_keyboard_alone(browser: Any, base_url: str, portal_db: str) -> None:
    page = await _page(browser)
    await page.goto(f"{base_url}/request/imaging?lang=en")
    await _tab_to(page, "relationship-self")  # already chosen: I am the patient
    for field in ("patient_first_name", "patient_last_name"):
        await _tab_to(page, field)
        await page.keyboard.type(OWN_RECORDS[field])
    await _tab_to(page, "patient_dob")
    await page.keyboard.type("05141979")  # mm dd yyyy in an en-US date field
    await _tab_to(page, "site-arizona")
    await page.keyboard.press("Space")
    await _tab_to(page, "records_description")
    await page.keyboard.type("Knee MRI, June 2025")
    await _tab_to(page, "delivery-email_link")
    await page.keyboard.press("Space")
    for field in ("email", "phone"):
        await _tab_to(page, field)
        await page.keyboard.type(OWN_RECORDS[field])
    await _tab_to(page, "consent")
    await page.keyboard.press("Space")
    await page.screenshot(path=str(ARTIFACTS / "imaging-keyboard-en.png"), full_page=True)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#tracking-number")
    tracking = (await page.text_content("#tracking-number") or "").strip()
    row = await _projected(portal_db, tracking)
    assert (row.kind, row.site, row.delivery_method) == ("imaging", "arizona", "email_link")
    await page.context.close()


async def test_billing_question_by_keyboard_alone(
    browser: Any, base_url: str, portal_db: str
) -> None:
    page = await _page(browser)
    await page.goto(f"{base_url}/request/billing?lang=en")
    await _tab_to(page, "relationship-self")  # already chosen: I am the patient
    for field in ("patient_first_name", "patient_last_name"):
        await _tab_to(page, field)
        await page.keyboard.type(PATIENT[field])
    await _tab_to(page, "patient_dob")
    await page.keyboard.type("05141979")
    await _tab_to(page, "site-arizona")
    await page.keyboard.press("Space")
    await _tab_to(page, "question")
    await page.keyboard.type("Why was I billed twice for one visit?")
    for field in ("email", "phone"):
        await _tab_to(page, field)
        await page.keyboard.type(CONTACT[field])
    await _tab_to(page, "consent")
    await page.keyboard.press("Space")
    await page.screenshot(path=str(ARTIFACTS / "billing-keyboard-en.png"), full_page=True)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#tracking-number")
    tracking = (await page.text_content("#tracking-number") or "").strip()
    row = await _projected(portal_db, tracking)
    assert (row.kind, row.team, row.site, row.language) == ("billing", "billing", "arizona", "en")
    await page.context.close()
