"""Issue 14, item 1: "An admin can read PHI: they create a supervisor with a password they
choose and sign in as it." Admins never set or see anyone's password: a new account, or one an
admin reset, gets a one-time enrolment link (expiring, single use, only its hash stored) with
which its owner sets their own; weak, common and short passwords are refused in plain words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlmodel import col

from app.accounts import AccountError, create_user, enrol_locally, enrolment_username
from app.security import token_hash
from config.redact import redact_path
from config.settings import get_settings
from store.db import session_scope
from store.web_models import StaffEnrolment, StaffUser
from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, add_staff, client, csrf, csrf_from, sign_in

_LINK = re.compile(r"https?://[^\s\"<>]+/enrol/([\w-]+)")


async def _attempt_sign_in(app: FastAPI, username: str, password: str) -> int:
    async with client(app, address="198.51.100.14") as c:
        page = await c.get("/login")
        answer = await c.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
        )
        return answer.status_code


async def test_an_admin_cannot_choose_a_password_for_anyone(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    admin = await sign_in(web_app, staff.names["admin"])
    page = await admin.get("/admin/users")
    assert page.status_code == 200
    assert 'type="password"' not in page.text and 'name="password"' not in page.text
    name = f"takeover.{uuid.uuid4().hex[:6]}"
    chosen = "admin-chose-this-Secret-42"
    made = await admin.post(  # the attack: a password field sent anyway
        "/admin/users",
        data={
            "username": name,
            "password": chosen,
            "role": "supervisor",
            "sites": "all",
            "csrf_token": await csrf(admin),
        },
    )
    assert made.status_code == 200
    link = _LINK.search(made.text)
    assert link, "the one-time link is shown to the admin once"
    with session_scope(web_db) as session:
        user = session.execute(
            select(StaffUser).where(col(StaffUser.username) == name)
        ).scalar_one()
        assert user.password_hash is None  # no password until its owner enrols
        stored = session.execute(text("SELECT token_hash FROM staff_enrolments")).scalars().all()
    assert link.group(1) not in stored and token_hash(link.group(1)) in stored  # hashed only
    assert await _attempt_sign_in(web_app, name, chosen) == 401
    again = await admin.get("/admin/users")
    assert link.group(1) not in again.text  # shown once: not on the next page
    # resetting someone else's account: their password stops working, a new link for them
    victim = f"victim.{uuid.uuid4().hex[:6]}"
    victim_id = add_staff(web_db, victim, role="supervisor")
    assert await _attempt_sign_in(web_app, victim, PASSWORD) in (200, 303)
    reset = await admin.post(
        f"/admin/users/{victim_id}/reset", data={"csrf_token": await csrf(admin)}
    )
    assert reset.status_code == 200 and _LINK.search(reset.text)
    assert await _attempt_sign_in(web_app, victim, PASSWORD) == 401
    await admin.aclose()
    # the library has no way left to set a password for someone
    with pytest.raises(TypeError, match=r"positional argument|unexpected keyword"):
        create_user(web_db, "lib.attempt", chosen, "supervisor", "all")  # type: ignore[call-arg]


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ROI_ENV", "production")
    get_settings.cache_clear()
    yield
    monkeypatch.setenv("ROI_ENV", "test")
    get_settings.cache_clear()


def test_only_the_demo_and_tests_enrol_accounts_themselves(web_db: str, production: None) -> None:
    with pytest.raises(AccountError, match="Only the local demo"):
        enrol_locally(web_db, "prod.shortcut", PASSWORD, "supervisor", "all")


async def test_the_enrolment_link_works_once_and_refuses_weak_passwords(
    web_app: FastAPI, web_db: str
) -> None:
    name = f"enrol.{uuid.uuid4().hex[:6]}"
    token = create_user(web_db, name, "specialist", "all").token
    async with client(web_app, address="198.51.100.15") as c:
        page = await c.get(f"/enrol/{token}")
        assert page.status_code == 200 and name in page.text
        form = csrf_from(page.text)
        for weak, says in (
            ("short-1", "Use at least 12 characters."),
            ("Password123!", "one of the most common passwords"),
            ("qwertyuiop12", "one of the most common passwords"),
            ("aaaaaaaaaaaaaaaa", "too easy to guess"),
            (f"{name}-2024x", "Do not use your username"),
        ):
            refused = await c.post(
                f"/enrol/{token}", data={"password": weak, "confirm": weak, "csrf_token": form}
            )
            assert refused.status_code == 422, weak
            assert says in refused.text, (weak, refused.text[:2000])
            assert weak not in refused.text  # never echoed
        mismatch = await c.post(
            f"/enrol/{token}",
            data={"password": "lantern-otter-basin", "confirm": "other", "csrf_token": form},
        )
        assert mismatch.status_code == 422 and "not the same" in mismatch.text
        assert enrolment_username(web_db, token) == name  # refusals do not use the link up
        done = await c.post(
            f"/enrol/{token}",
            data={
                "password": "lantern-otter-basin",
                "confirm": "lantern-otter-basin",
                "csrf_token": form,
            },
        )
        assert done.status_code == 303 and done.headers["location"].startswith("/login")
        # a second use (the link leaked, an attacker replays it): refused, password unchanged
        assert (await c.get(f"/enrol/{token}")).status_code == 404
        replay = await c.post(
            f"/enrol/{token}",
            data={
                "password": "attacker-owns-it-now",
                "confirm": "attacker-owns-it-now",
                "csrf_token": form,
            },
        )
        assert replay.status_code == 404
    assert await _attempt_sign_in(web_app, name, "attacker-owns-it-now") == 401
    assert await _attempt_sign_in(web_app, name, "lantern-otter-basin") in (200, 303)


async def test_an_expired_or_replaced_link_does_not_work(web_app: FastAPI, web_db: str) -> None:
    name = f"expired.{uuid.uuid4().hex[:6]}"
    first = create_user(web_db, name, "specialist", "all")
    with session_scope(web_db) as session:
        session.execute(
            StaffEnrolment.__table__.update()  # type: ignore[attr-defined]
            .where(StaffEnrolment.token_hash == token_hash(first.token))
            .values(expires_at=first.expires_at.replace(year=2000))
        )
    async with client(web_app, address="198.51.100.16") as c:
        assert (await c.get(f"/enrol/{first.token}")).status_code == 404
    assert redact_path(f"/enrol/{first.token}") == "/enrol/[redacted]"  # never in a log line
