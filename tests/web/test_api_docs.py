"""The API docs work offline and load nothing from a third party: Swagger UI and ReDoc come
from the app's own files, under a CSP that names no other origin (they loaded from a CDN:
a blank page offline, and a third-party script on the staff origin)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI

from tests.web.helpers import client
from tests.web.test_browser import ARTIFACTS, CHROMIUM, base_url, browser  # noqa: F401

_ORIGIN = re.compile(r"https?://")


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_docs_pages_name_no_other_origin(path: str, web_app: FastAPI) -> None:
    response = await client(web_app).get(path)
    assert response.status_code == 200
    assert not _ORIGIN.search(response.text), "the page loads something from another origin"
    assert "<script>" not in response.text  # no inline script: the CSP allows none
    csp = response.headers["content-security-policy"]
    assert not _ORIGIN.search(csp) and "script-src 'self';" in csp
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text):
        assert (await client(web_app).get(asset)).status_code == 200, asset


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize(("path", "shown"), [("/docs", ".swagger-ui .info"), ("/redoc", "h1")])
async def test_docs_render_in_a_browser_without_the_network(
    path: str,
    shown: str,
    base_url: str,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    page = await browser.new_page()
    elsewhere: list[str] = []
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    async def only_ours(route: Any) -> None:
        if route.request.url.startswith(base_url):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_ours)
    await page.goto(base_url + path)
    await page.wait_for_selector(shown, timeout=15000)
    assert "ROI engine" in await page.inner_text(shown)
    await page.screenshot(path=str(ARTIFACTS / f"api{path.replace('/', '-')}.png"))
    await page.close()
    assert elsewhere == []
    # ReDoc's footer asks for its logo from its CDN: the CSP blocks it, as it should; no script
    # of ours or theirs is refused, so the page works as it is.
    refused = [e for e in errors if "Content Security Policy" in e]
    assert all("Loading the image" in e for e in refused), refused
