# ruff: noqa: F811  (the browser and base_url fixtures are imported from test_browser)
"""Issue 14 in Debian's Chromium (Playwright): the `__Host-` cookies on plain-http loopback
(http://127.0.0.1 and http://localhost are secure contexts, so Chromium keeps Secure and
__Host- cookies there); a person's own sessions at /account/sessions, ending another of them
(signed out on its next request), and an admin ending an account's sessions. Screenshots go
to test-artifacts/web/ (account-sessions.png, account-sessions-ended.png,
admin-sessions-ended.png)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, add_staff, totp_code
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


async def test_people_end_their_other_sessions_and_admins_anyones(
    browser: Any, base_url: str, web_db: str, staff: Staff
) -> None:
    add_staff(web_db, "web.browser.sessions")
    # two browsers of one person: this one, and another on "localhost" (another device)
    here = await _signed_in(browser, base_url, web_db, "web.browser.sessions")
    elsewhere_origin = base_url.replace("127.0.0.1", "localhost")
    elsewhere = await _signed_in(browser, elsewhere_origin, web_db, "web.browser.sessions")

    await here.goto(f"{base_url}/account")
    async with here.expect_navigation():
        await here.click("#sessions-link")
    table = here.locator("#sessions-table tbody tr")
    assert await table.count() == 2
    current = here.locator("#sessions-table tr.current")
    assert "this session" in await current.inner_text()
    assert "Chrome" in await current.inner_text() and "Linux" in await current.inner_text()
    await here.screenshot(path=str(ARTIFACTS / "account-sessions.png"), full_page=True)

    other = here.locator("#sessions-table tbody tr:not(.current)")
    other_id = (await other.get_attribute("id") or "").removeprefix("session-")
    async with here.expect_navigation():
        await here.click(f"#end-{other_id}")
    assert f"Session {other_id} ended" in await here.inner_text(".flash")
    assert await here.locator("#sessions-table tbody tr").count() == 1
    await here.screenshot(path=str(ARTIFACTS / "account-sessions-ended.png"), full_page=True)

    # the ended browser is signed out on its next request
    answer = await elsewhere.goto(f"{elsewhere_origin}/queue")
    assert answer.status == 401
    assert "Your session has ended" in await elsewhere.inner_text("main")
    await elsewhere.context.close()

    # an admin signs the person out everywhere from the accounts page
    admin = await _signed_in(browser, base_url, web_db, staff.names["admin"])
    await admin.goto(f"{base_url}/admin/users")
    assert await admin.inner_text("#sessions-web\\.browser\\.sessions") == "1 session"
    async with admin.expect_navigation():
        await admin.click("#end-sessions-web\\.browser\\.sessions")
    assert "1 session of web.browser.sessions ended" in await admin.inner_text(".flash")
    assert await admin.inner_text("#sessions-web\\.browser\\.sessions") == "0 sessions"
    await admin.screenshot(path=str(ARTIFACTS / "admin-sessions-ended.png"), full_page=True)
    answer = await here.goto(f"{base_url}/account/sessions")
    assert answer.status == 401
    await here.context.close()
    await admin.context.close()
