"""The staff app beside the portal in the browser tests: an app served by uvicorn in the test's
event loop, the staff app on the portal tests' database and Temporal server, and a signed-in
staff page (password, then the authenticator's code), as a specialist would sign in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from app.config import WebSettings
from app.main import create_app as create_staff_app
from config.settings import Settings
from tests.harness import Harness
from tests.portal.test_browser import _free_port
from tests.web.helpers import PASSWORD, totp_code


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app served by uvicorn in this event loop, on a free port: its base address."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


def staff_app(database_url: str, env: WorkflowEnvironment, harness: Harness) -> FastAPI:
    """The staff app on the portal tests' database, Temporal server and task queue (the
    per-address sign-in limit raised: every test shares one client address)."""
    settings = Settings(task_queue=harness.task_queue, outbox_dir=harness.outbox)
    return create_staff_app(
        settings,
        database_url=database_url,
        temporal_client=env.client,
        web=WebSettings(cookie_secure=True, login_address_max_failures=10_000),
    )


async def signed_in(browser: Any, staff: str, database_url: str, username: str) -> Any:
    """A new desktop-sized page signed in to the staff app as this account (add_staff's
    password, then its current TOTP code); close it with `page.context.close()`."""
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{staff}/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/login/mfa**")
    await page.fill("#code", totp_code(database_url, username))
    await page.keyboard.press("Enter")
    await page.wait_for_load_state("networkidle")
    return page
