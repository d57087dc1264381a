# ruff: noqa: F811  (the browser and base_url fixtures are imported from test_browser)
"""Issue 14 in Debian's Chromium (Playwright): the privacy officer's security-events log,
disclosures log and a request's audit trail with its download-link accesses. Screenshots go to
test-artifacts/web/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.effects import DisclosureRecord
from domain.types import DeliveryMethod, DisclosureCategory
from services import links as link_service
from store import links
from store.db import session_scope
from store.repository import record_disclosure
from tests.web.conftest import Staff
from tests.web.helpers import insert_request
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    CHROMIUM,
    _page,
    base_url,
    browser,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


async def test_privacy_officer_reads_the_logs(
    browser: Any, base_url: str, web_db: str, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    rid = insert_request(web_db, site="wisconsin")
    with session_scope(web_db) as session:
        record_disclosure(
            session,
            DisclosureRecord(
                key=f"browser-{tag}",
                request_id=rid,
                disclosed_at=datetime(2012, 5, 2, 15, 30, tzinfo=UTC),
                disclosed_by="engine",
                recipient_name="Dane County Public Health",
                recipient_address="210 Martin Luther King Jr Blvd, Madison",
                description="Immunization record",
                purpose=f"Required report {tag}",
                method=DeliveryMethod.US_MAIL,
                category=DisclosureCategory.PUBLIC_HEALTH,
                authorization_ref=None,
                patient_key=None,
            ),
        )
    now = datetime.now(UTC)
    link = links.create_link(
        web_db,
        delivery_key=f"{rid}-deliver-browser",
        request_id=rid,
        patient_key=None,
        package_path="/nonexistent.pdf",
        content_type="application/pdf",
        now=now,
        ttl=timedelta(days=30),
    )
    with session_scope(web_db) as session:
        link_service.open_download(session, link.id, now=now, client="c0ffee0123456789")
        link_service.open_download(session, None, now=now, client="badc0de012345678")

    page = await _page(browser, base_url, staff.names["privacy"])
    assert page.url.endswith("/privacy/security-events")
    await page.select_option("#filter-action", "auth.login")
    async with page.expect_navigation():
        await page.click("#security-filters button[type=submit]")
    assert "auth.login" in await page.inner_text("#security-table")
    await page.screenshot(path=str(ARTIFACTS / "privacy-security-events.png"), full_page=True)

    async with page.expect_navigation():
        await page.click("nav a[href='/privacy/disclosures']")
    await page.fill("#filter-purpose", tag)
    async with page.expect_navigation():
        await page.click("#disclosure-filters button[type=submit]")
    table = await page.inner_text("#disclosure-table")
    assert "Dane County Public Health" in table and "Wisconsin" in table
    await page.screenshot(path=str(ARTIFACTS / "privacy-disclosures.png"), full_page=True)

    async with page.expect_navigation():
        await page.click("#disclosure-table a")
    assert "served" in await page.inner_text("#audit-accesses")
    await page.screenshot(path=str(ARTIFACTS / "privacy-audit-trail.png"), full_page=True)
    await page.context.close()


async def test_a_second_device_is_asked_for_the_date_of_birth(
    browser: Any, base_url: str, web_app: Any, web_db: str, staff: Staff, tmp_path: Any
) -> None:
    import httpx

    rid = insert_request(web_db, site="florida", status="completed")
    package = tmp_path / "records.pdf"
    package.write_bytes(b"%PDF-1.4 synthetic\n%%EOF\n")
    link = links.create_link(
        web_db,
        delivery_key=f"{rid}-deliver-dob",
        request_id=rid,
        patient_key=None,
        package_path=str(package),
        content_type="application/pdf",
        now=datetime.now(UTC),
        ttl=timedelta(days=30),
    )
    url = f"/download/{links.LinkSigner(web_app.state.ctx.settings.link_secret).token(link.id)}"
    async with httpx.AsyncClient(base_url=base_url) as patient:  # the first device downloads
        assert (await patient.get(url)).headers["content-type"] == "application/pdf"

    context = await browser.new_context(viewport={"width": 1000, "height": 700})
    other = await context.new_page()  # the forwarded email, on another device
    await other.goto(f"{base_url}{url}")
    assert await other.is_visible("#dob-form")
    await other.screenshot(path=str(ARTIFACTS / "download-dob-form.png"), full_page=True)
    await other.fill("#date_of_birth", "1990-01-01")
    async with other.expect_navigation():
        await other.click("#dob-form button[type=submit]")
    assert "does not match" in await other.inner_text("#dob-error")
    await other.screenshot(path=str(ARTIFACTS / "download-dob-wrong.png"), full_page=True)
    await context.close()

    page = await _page(browser, base_url, staff.names["privacy"])
    await page.goto(f"{base_url}/requests/{rid}/audit")
    accesses = await page.inner_text("#audit-accesses")
    assert "served" in accesses and "dob_asked" in accesses and "dob_wrong" in accesses
    await page.screenshot(path=str(ARTIFACTS / "download-accesses-audit.png"), full_page=True)
    await page.context.close()
