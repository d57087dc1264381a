"""Issue 14, item 2: a password alone never reads PHI. Every role signs in with a second
factor (TOTP, or a single-use recovery code), set up right after the password through a QR code
we draw ourselves; codes work once, are throttled like passwords, and every outcome is an
`auth.mfa` security event carrying no secret and no code."""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from datetime import UTC, datetime

import httpx
import pyotp
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlmodel import col

from app.accounts import complete_enrolment, create_user
from store.db import session_scope
from store.models import SecurityEvent
from tests.web.helpers import PASSWORD, TOTP_SECRET, add_staff, client, csrf_from


def _events(database_url: str, since: datetime, user_id: str) -> list[SecurityEvent]:
    with session_scope(database_url) as session:
        rows = list(
            session.execute(
                select(SecurityEvent)
                .where(col(SecurityEvent.at) >= since, col(SecurityEvent.action) == "auth.mfa")
                .where(col(SecurityEvent.actor) == user_id)
                .order_by(col(SecurityEvent.id))
            ).scalars()
        )
        session.expunge_all()
        return rows


async def _password(c: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    page = await c.get("/login")
    answer = await c.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"].startswith("/login/mfa")
    step = await c.get("/login/mfa")
    assert step.status_code == 200
    return csrf_from(step.text)


async def _code(c: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await c.post("/login/mfa", data={"code": code, "csrf_token": token})


async def test_a_password_alone_opens_nothing(web_app: FastAPI, web_db: str) -> None:
    name = f"mfa.only.{uuid.uuid4().hex[:6]}"
    add_staff(web_db, name, role="supervisor")
    async with client(web_app, address="203.0.113.20") as c:
        token = await _password(c, name)
        for path in ("/queue", "/board", "/account", "/"):
            assert (await c.get(path)).status_code == 401, path
        claim = await c.post("/queue/next", data={"csrf_token": token})
        assert claim.status_code == 401


async def test_setup_with_our_own_qr_code_then_codes_work_once(
    web_app: FastAPI, web_db: str
) -> None:
    since = datetime.now(UTC)
    name = f"mfa.new.{uuid.uuid4().hex[:6]}"
    enrolment = create_user(web_db, name, "specialist", "all")
    user_id = complete_enrolment(web_db, enrolment.token, "lantern-otter-basin")
    async with client(web_app, address="203.0.113.21") as c:
        page = await c.get("/login")
        await c.post(
            "/login",
            data={
                "username": name,
                "password": "lantern-otter-basin",
                "csrf_token": csrf_from(page.text),
            },
        )
        setup = await c.get("/login/mfa")
        assert setup.status_code == 200 and "<svg" in setup.text
        assert "chart.googleapis" not in setup.text and "<img" not in setup.text
        secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', setup.text)
        assert secret
        key = secret.group(1).replace(" ", "")
        token = csrf_from(setup.text)
        wrong = await c.post("/login/mfa/setup", data={"code": "000000", "csrf_token": token})
        assert wrong.status_code == 422 and "not right" in wrong.text
        assert (await c.get("/queue")).status_code == 401
        done = await c.post(
            "/login/mfa/setup", data={"code": pyotp.TOTP(key).now(), "csrf_token": token}
        )
        assert done.status_code == 200
        codes = re.findall(r"<li><code>([a-z0-9-]{19})</code></li>", done.text)
        assert len(codes) == 10
        go = re.search(r'id="mfa-continue" href="([^"]+)"', done.text)
        assert go
        assert (await c.get(html.unescape(go.group(1)))).status_code == 200  # signed in
        assert (await c.get("/login/mfa")).status_code == 401  # nothing pending any more
    with session_scope(web_db) as session:
        stored = json.dumps(
            [
                list(r)
                for r in session.execute(
                    text("SELECT * FROM staff_mfa WHERE user_id = :u"), {"u": user_id}
                )
            ]
            + [
                list(r)
                for r in session.execute(
                    text("SELECT * FROM staff_recovery_codes WHERE user_id = :u"), {"u": user_id}
                )
            ],
            default=str,
        )
    assert key not in stored and key.lower() not in stored  # the secret is sealed
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)
    # the same TOTP code a second time (shoulder-surfed, phished and replayed): refused
    used = pyotp.TOTP(key).now()
    async with client(web_app, address="203.0.113.22") as c:
        token = await _password(c, name, "lantern-otter-basin")
        first = await _code(c, token, used)
        if first.status_code != 303:  # the step of the setup's code: wait for the next one
            time.sleep(31 - time.time() % 30)
            used = pyotp.TOTP(key).now()
            first = await _code(c, token, used)
        assert first.status_code == 303
    async with client(web_app, address="203.0.113.23") as c:
        token = await _password(c, name, "lantern-otter-basin")
        replay = await _code(c, token, used)
        assert replay.status_code == 401 and "not right" in replay.text
        assert (await c.get("/queue")).status_code == 401
        # a recovery code works once
        assert (await _code(c, token, codes[0])).status_code == 303
    async with client(web_app, address="203.0.113.24") as c:
        token = await _password(c, name, "lantern-otter-basin")
        assert (await _code(c, token, codes[0])).status_code == 401
        assert (await _code(c, token, codes[1].upper().replace("-", " "))).status_code == 303
    events = _events(web_db, since, user_id)
    outcomes = [(e.outcome, (e.detail or {}).get("factor")) for e in events]
    assert ("enrolled", "totp") in outcomes and ("ok", "totp") in outcomes
    assert ("ok", "recovery_code") in outcomes and ("failed", None) in outcomes
    text_of = json.dumps([[e.actor, e.outcome, e.client, e.detail] for e in events]).lower()
    for secret_value in (key.lower(), used, codes[0], codes[1]):
        assert secret_value not in text_of


async def test_wrong_codes_are_throttled_like_passwords(web_app: FastAPI, web_db: str) -> None:
    since = datetime.now(UTC)
    name = f"mfa.guess.{uuid.uuid4().hex[:6]}"
    user_id = add_staff(web_db, name)
    async with client(web_app, address="203.0.113.25") as c:
        token = await _password(c, name)
        codes = [(await _code(c, token, f"{i:06d}")).status_code for i in range(6)]
        assert codes == [401] * 5 + [429]
        right = await _code(c, token, pyotp.TOTP(TOTP_SECRET).now())
        assert right.status_code == 429 and "retry-after" in right.headers  # not even checked
    outcomes = [e.outcome for e in _events(web_db, since, user_id)]
    assert outcomes.count("failed") == 5 and "throttled" in outcomes
