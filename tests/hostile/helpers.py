"""Helpers of the hostile-input tests: raw requests to the app, and what a refusal must say."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.web.helpers import client


async def send_raw(
    app: FastAPI, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> httpx.Response:
    """One request with exactly these bytes as its body (no client-side JSON encoding)."""
    async with client(app) as c:
        return await c.request(method, url, headers=headers, content=body)


def assert_explained(response: httpx.Response) -> None:
    """A refused request says why: JSON with a `detail`, and for 422 one entry per problem
    naming its field, a machine-readable code and a message."""
    if response.status_code < 400:
        return
    body: Any = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    if response.status_code == 422:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, body
        for error in errors:
            for key in ("field", "code", "message"):
                assert isinstance(error.get(key), str) and error[key].strip(), (key, error)
