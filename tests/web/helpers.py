"""Helpers for the web tests: signed-in HTTP clients and read-model rows without workflows."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from ulid import ULID

from store.db import session_scope
from store.models import RecordRequest

PASSWORD = "correct-horse-battery-9"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def csrf_from(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def client(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """An HTTP client talking to the app in this event loop (over https, so Secure cookies
    are sent back as a browser would)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="https://testserver",
        follow_redirects=False,
    )


async def sign_in(app: FastAPI, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
    c = client(app)
    page = await c.get("/login")
    response = await c.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 303, response.text[:500]
    return c


async def csrf(c: httpx.AsyncClient) -> str:
    """The session's CSRF token (every page carries it; /status is one anyone may load)."""
    return csrf_from((await c.get("/status")).text)


def tracking() -> str:
    chars = "".join(secrets.choice(_CROCKFORD) for _ in range(10))
    return f"ROI-{chars[:5]}-{chars[5:]}"


def insert_request(database_url: str, **overrides: Any) -> str:
    """A read-model row as the workflow would project it (no workflow behind it)."""
    now = datetime.now(UTC)
    received = overrides.pop("received_at", now - timedelta(days=2))
    due_date = overrides.pop("due_date", (received + timedelta(days=30)).date())
    request_id = str(ULID()).lower()
    row: dict[str, Any] = {
        "id": request_id,
        "workflow_id": f"roi-{request_id}",
        "tracking_number": tracking(),
        "kind": "access_own",
        "team": "roi",
        "site": "minnesota",
        "channel": "portal",
        "language": "en",
        "status": "awaiting_verification",
        "delivery_method": "email_link",
        "received_at": received,
        "target_due_at": received + timedelta(days=14),
        "due_at": received + timedelta(days=30),
        "original_due_date": due_date,
        "due_date": due_date,
        "patient_name": "Synthetic Testpatient",
        "patient_dob": date(1984, 3, 9),
        "requester_name": "Synthetic Testpatient",
        "recipient_name": "Synthetic Testpatient",
        "summary": {"deficiencies": [], "fee_lines": []},
        "state_version": 1,
    }
    row.update(overrides)
    with session_scope(database_url) as session:
        session.add(RecordRequest(**row))
    return request_id
