"""Helpers for the web tests: signed-in HTTP clients and read-model rows without workflows."""

from __future__ import annotations

import html
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from ulid import ULID

from domain.ids import workflow_id_for
from store.db import session_scope
from store.models import RecordRequest

PASSWORD = "correct-horse-battery-9"
#: The cookies' names with Secure cookies (the tests' default): __Host- prefixed (app/auth.py).
SESSION = "__Host-roi_session"
ANON_CSRF = "__Host-roi_csrf"


def add_staff(
    database_url: str,
    username: str,
    password: str = PASSWORD,
    role: str = "specialist",
    sites: list[str] | str = "all",
) -> str:
    """An active staff account enrolled as its owner would (the one-time link followed with
    this password; ROI_ENV=test only), its second factor TOTP_SECRET; returns its id."""
    from app.accounts import enrol_locally

    return enrol_locally(
        database_url, username, password, role, sites, by="test", totp_secret=TOTP_SECRET
    )


#: Every test account's TOTP secret (add_staff): the tests compute codes from it.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(database_url: str, username: str) -> str:
    """The account's current code. A code works once (the server keeps the last time step it
    accepted); the tests sign in many times a minute, so this forgets that step first, a
    shortcut only the tests take (tests/hostile/test_mfa.py checks the replay refusal)."""
    import pyotp
    from sqlalchemy import text

    with session_scope(database_url) as session:
        session.execute(
            text(
                "UPDATE staff_mfa SET last_step = NULL WHERE user_id = "
                "(SELECT id FROM staff_users WHERE username = :name)"
            ),
            {"name": username.strip().lower()},
        )
    return pyotp.TOTP(TOTP_SECRET).now()


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
    """A client signed in with both factors (password, then the account's TOTP code)."""
    c = client(app)
    page = await c.get("/login")
    response = await c.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 303, response.text[:500]
    await second_factor(app, c, username, response.headers["location"])
    return c


async def second_factor(
    app: FastAPI, c: httpx.AsyncClient, username: str, location: str = "/login/mfa"
) -> httpx.Response:
    """Enter the account's code on the second step of sign-in (after a right password)."""
    assert location.startswith("/login/mfa"), location
    step = await c.get(location)
    assert step.status_code == 200, step.text[:500]
    found = re.search(r'name="next" value="([^"]*)"', step.text)
    done = await c.post(
        "/login/mfa",
        data={
            "code": totp_code(app.state.ctx.db(), username),
            "next": html.unescape(found.group(1)) if found else "/",
            "csrf_token": csrf_from(step.text),
        },
    )
    assert done.status_code == 303, done.text[:500]
    return done


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
        "workflow_id": workflow_id_for(request_id),
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
