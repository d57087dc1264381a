# ruff: noqa: F811  (the browser and base_url fixtures are imported from test_browser)
"""Issue 14 in Debian's Chromium (Playwright): the `__Host-` cookies on plain-http loopback
(http://127.0.0.1 and http://localhost are secure contexts, so Chromium keeps Secure and
__Host- cookies there). Screenshots go to test-artifacts/web/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, totp_code
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    CHROMIUM,
    base_url,
    browser,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


async def _signed_in(browser: Any, origin: str, database_url: str, username: str) -> Any:
    """A new browser context signed in at `origin` with both factors."""
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{origin}/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/login/mfa**")
    await page.fill("#code", totp_code(database_url, username))
    await page.keyboard.press("Enter")
    await page.wait_for_load_state("networkidle")
    return page


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_host_prefixed_cookies_on_loopback(
    browser: Any, base_url: str, web_db: str, staff: Staff, host: str
) -> None:
    origin = base_url.replace("127.0.0.1", host)
    page = await _signed_in(browser, origin, web_db, staff.names["specialist"])
    assert page.url.endswith("/queue"), page.url  # signed in: the cookies were kept and sent
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert set(cookies) == {"__Host-roi_csrf", "__Host-roi_session"}, set(cookies)
    for cookie in cookies.values():
        assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/"
        assert cookie["domain"] == host  # host-only: no Domain attribute
    assert cookies["__Host-roi_session"]["sameSite"] == "Lax"
    assert cookies["__Host-roi_csrf"]["sameSite"] == "Strict"
    # a form posts (CSRF checked) and sign-out clears the session cookie in the browser
    async with page.expect_navigation():
        await page.click("form[action='/logout'] button")
    names = {c["name"] for c in await page.context.cookies()}
    assert "__Host-roi_session" not in names
    assert (await page.goto(f"{origin}/queue")).status == 401
    await page.context.close()
