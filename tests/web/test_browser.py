"""In a real browser (Debian's Chromium driven by Playwright): the specialist's keyboard path,
the supervisor's breach, a refusal next to its field, and each team (Amendment, Data Integrity,
Billing) working its own kind from its own queue. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from store.db import session_scope
from store.models import RecordRequest
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, add_staff, totp_code

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_DATABASES: dict[str, str] = {}


@pytest.fixture(scope="module")
async def base_url(web_app: FastAPI) -> AsyncIterator[str]:
    """The app served by uvicorn in this event loop (the test's worker shares it)."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(web_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    _DATABASES[f"http://127.0.0.1:{port}"] = web_app.state.ctx.db()  # for the TOTP codes
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


async def _page(browser: Any, base_url: str, username: str) -> Any:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{base_url}/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/login/mfa**")  # the second step: the authenticator's code
    await page.fill("#code", totp_code(_DATABASES[base_url], username))
    await page.keyboard.press("Enter")
    await page.wait_for_load_state("networkidle")
    return page


async def _submit(h: Harness, data: dict[str, Any], until: Any) -> str:
    result = await h.submit(data)
    assert result.accepted, result.errors
    rid = result.request_id or ""
    await _until(h, rid, until)
    return rid


async def _until(h: Harness, rid: str, until: Any) -> None:
    """Wait until the request's row (the read model) satisfies `until`."""
    for _ in range(300):
        with session_scope(h.database_url) as session:
            row = session.get(RecordRequest, rid)
            if row is not None and until(row):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the request never got there")


def _tracking(database_url: str, rid: str) -> str:
    with session_scope(database_url) as session:
        row = session.get(RecordRequest, rid)
        assert row is not None
        return row.tracking_number


async def test_next_verify_release_by_keyboard(
    browser: Any, base_url: str, web_worker: Harness, web_db: str
) -> None:
    add_staff(web_db, "web.keyboard", PASSWORD, "specialist", ["minnesota"])
    received = (datetime.now(UTC) - timedelta(days=29, hours=20)).isoformat()  # most urgent
    rid = await _submit(
        web_worker,
        factories.own_records(received_at=received),
        lambda r: r.status == "awaiting_verification",
    )
    tracking = _tracking(web_db, rid)
    page = await _page(browser, base_url, "web.keyboard")
    assert page.url.endswith("/queue")
    await page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
    assert await page.locator("#queue-table").get_by_text(tracking).count() == 1

    await page.keyboard.press("n")  # Next request
    await page.wait_for_url(re.compile(rf"/requests/{rid}$"))
    assert await page.locator("#verify-method").evaluate("el => el === document.activeElement")
    await page.screenshot(path=str(ARTIFACTS / "request.png"), full_page=True)

    await page.keyboard.press("ArrowDown")  # choose how identity was checked
    await page.keyboard.press("Enter")  # and send it
    await page.wait_for_selector("text=Identity verified.")
    assert await page.locator("#complete-button").evaluate("el => el === document.activeElement")
    await page.keyboard.press("Enter")  # release
    await page.wait_for_selector("text=Release started.")
    assert await page.locator("#next-button").evaluate("el => el === document.activeElement")
    await page.screenshot(path=str(ARTIFACTS / "request-released.png"), full_page=True)

    await page.keyboard.press("q")  # back to the queue: it has left
    await page.wait_for_url(re.compile(r"/queue$"))
    assert await page.locator("#queue-table").get_by_text(tracking).count() == 0
    await page.context.close()


async def test_supervisor_sees_the_breach(
    browser: Any, base_url: str, web_worker: Harness, web_db: str, staff: Staff
) -> None:
    received = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    rid = await _submit(
        web_worker,
        factories.third_party(received_at=received, site="florida"),
        lambda r: r.breached,
    )
    tracking = _tracking(web_db, rid)
    page = await _page(browser, base_url, staff.names["supervisor"])
    assert page.url.endswith("/board")
    banner = page.locator("#breach-banner")
    assert "BREACHED" in (await banner.inner_text())
    color = await banner.evaluate("el => getComputedStyle(el).backgroundColor")
    assert color == "rgb(179, 38, 30)"  # red, at the top of the page
    assert (await banner.bounding_box())["y"] < 150
    assert await page.locator("#list-breached").get_by_text(tracking).count() == 1
    assert "BREACHED" in await page.title()
    await page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)
    await page.locator("#list-breached").get_by_text(tracking).click()
    await page.wait_for_url(re.compile(rf"/requests/{rid}$"))
    assert "BREACHED" in await page.locator(".banner.breach").inner_text()
    await page.screenshot(path=str(ARTIFACTS / "request-breached.png"), full_page=True)
    await page.context.close()


async def test_a_refused_action_shows_next_to_its_field(
    browser: Any, base_url: str, web_worker: Harness, staff: Staff
) -> None:
    rid = await _submit(
        web_worker,
        factories.imaging_fedex(received_at=(datetime.now(UTC) - timedelta(days=1)).isoformat()),
        lambda r: r.status == "awaiting_verification",
    )
    page = await _page(browser, base_url, staff.names["specialist"])
    await page.goto(f"{base_url}/requests/{rid}")
    await page.fill("#pay-amount", "40.00")
    await page.fill("#pay-ref", "check 1001")
    await page.click("#form-record_payment button[type=submit]")
    error = page.locator('[data-field="record_payment:amount"]')
    await error.wait_for()
    assert await error.inner_text() == "The amount owed is 45.00 USD."
    field_box = await page.locator("#pay-amount").bounding_box()
    error_box = await error.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40  # right under it
    assert abs(error_box["x"] - field_box["x"]) < 10
    assert await page.locator("#pay-amount").evaluate("el => el === document.activeElement")
    await page.screenshot(path=str(ARTIFACTS / "refused-action.png"), full_page=False)
    await page.context.close()


def _received(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


#: team -> (role, submission, the action form, how to fill it, the status it ends in)
TEAMS: dict[str, tuple[str, Any, str, dict[str, str], str]] = {
    "amendment": (
        "amendment_specialist",
        lambda: factories.amendment(received_at=_received(59.5)),  # the most urgent amendment
        "amendment_accept",
        {"#am-text": "Penicillin allergy removed from the allergy list (entered in error)."},
        "completed",
    ),
    "data_integrity": (
        "data_integrity_specialist",
        lambda: factories.adoption_notice("adoption_decree", received_at=_received(29.5)),
        "integrity_confirm",
        {"#di-note": "Decree checked: all 4 pages present."},
        "completed",
    ),
    "billing": (
        "specialist",
        lambda: factories.billing(received_at=_received(29.9)),
        "billing_answer",
        {"#billing_answer-text": "The itemized bill was mailed to you on file."},
        "completed",
    ),
}


@pytest.mark.parametrize("team", sorted(TEAMS))
async def test_each_team_works_its_kind_from_its_queue(
    team: str, browser: Any, base_url: str, web_worker: Harness, web_db: str
) -> None:
    role, make, form, fill, final = TEAMS[team]
    username = f"web.team.{team}"
    add_staff(web_db, username, PASSWORD, role, "all")
    rid = await _submit(web_worker, make(), lambda r: r.status == "under_review")
    tracking = _tracking(web_db, rid)

    page = await _page(browser, base_url, username)
    await page.goto(f"{base_url}/queue")
    assert await page.locator("#queue-table").get_by_text(tracking).count() == 1
    await page.screenshot(path=str(ARTIFACTS / f"queue-{team}.png"), full_page=True)

    await page.locator("#queue-table").get_by_text(tracking).click()
    await page.wait_for_url(re.compile(rf"/requests/{rid}$"))
    details = page.locator(f"#details-{form}")
    if await details.count():
        await details.locator("summary").click()
    for selector, text in fill.items():
        await page.fill(selector, text)
    await page.click(f"#form-{form} button[type=submit]")
    await page.wait_for_load_state("networkidle")
    await _until(web_worker, rid, lambda r: r.status == final)
    await page.reload()
    await page.screenshot(path=str(ARTIFACTS / f"request-{team}.png"), full_page=True)
    assert final.replace("_", " ") in (await page.locator("main").inner_text()).lower()

    await page.goto(f"{base_url}/queue")
    if final == "completed":  # closed: it has left the queue
        assert await page.locator("#queue-table").get_by_text(tracking).count() == 0
    await page.context.close()
