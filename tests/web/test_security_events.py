"""Security events are rows in the append-only `security_events` table, not only log lines
(issue 14, item 5): sign-ins (succeeded, failed, throttled), sign-outs and every other end of a
session, 403s (a role's, another site's request, a form from another site), account and API
token changes from the web and the CLI. None carries a password, a token, a username that
matches no account, or patient information."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlmodel import col
from typer.testing import CliRunner

from app.accounts import complete_enrolment, update_user
from app.security import opaque, token_hash
from config.settings import get_settings
from starter import app as roi
from store.db import session_scope
from store.models import SecurityEvent
from store.web_models import StaffSession
from tests.web.conftest import Staff
from tests.web.helpers import (
    PASSWORD,
    SESSION,
    add_staff,
    client,
    csrf,
    csrf_from,
    insert_request,
    sign_in,
)

runner = CliRunner()


def _events(database_url: str, since: datetime, action: str | None = None) -> list[SecurityEvent]:
    with session_scope(database_url) as session:
        query = select(SecurityEvent).where(col(SecurityEvent.at) >= since)
        if action:
            query = query.where(col(SecurityEvent.action) == action)
        rows = list(session.execute(query.order_by(col(SecurityEvent.id))).scalars())
        session.expunge_all()
        return rows


def _one(database_url: str, since: datetime, action: str, **match: Any) -> SecurityEvent:
    found = [
        e
        for e in _events(database_url, since, action)
        if all(
            (e.detail or {}).get(k[7:]) == v if k.startswith("detail_") else getattr(e, k) == v
            for k, v in match.items()
        )
    ]
    assert len(found) == 1, (action, match, [(e.actor, e.outcome, e.detail) for e in found])
    return found[0]


def _no_secrets(database_url: str, since: datetime, *secrets: str) -> None:
    rows = _events(database_url, since)
    assert rows
    text = json.dumps(
        [[e.actor, e.action, e.outcome, e.client, e.detail] for e in rows], default=str
    ).lower()
    for secret in secrets:
        assert secret.lower() not in text, "a secret or a name reached security_events"


async def test_sign_ins_succeeded_failed_and_throttled(web_app: FastAPI, web_db: str) -> None:
    since = datetime.now(UTC)
    username = f"ev.{uuid.uuid4().hex[:8]}"
    account = add_staff(web_db, username, PASSWORD, "specialist", "all")
    unknown = f"nobody.{uuid.uuid4().hex[:8]}"
    async with client(web_app, address="10.66.0.1") as first:
        data = {"username": username, "password": PASSWORD}
        data["csrf_token"] = csrf_from((await first.get("/login")).text)
        assert (await first.post("/login", data=data)).status_code == 303
    async with client(web_app, address="10.66.0.1") as c:
        token = csrf_from((await c.get("/login")).text)

        async def attempt(name: str, password: str) -> int:
            data = {"username": name, "password": password, "csrf_token": token}
            return (await c.post("/login", data=data)).status_code

        assert await attempt(username, "wrong-password-1") == 401
        assert await attempt(unknown, "typed-in-the-wrong-box") == 401
        for i in range(4):
            await attempt(username, f"wrong-password-{i + 2}")
        assert await attempt(username, "wrong-password-9") == 429
    ok = _one(web_db, since, "auth.login", outcome="ok")
    assert ok.actor == account and ok.client == opaque("10.66.0.1")
    wrong = _events(web_db, since, "auth.login")
    failed = [e for e in wrong if e.outcome == "failed"]
    assert next(e.detail for e in failed if e.actor == account) == {"reason": "wrong_password"}
    [stranger] = [e for e in failed if e.actor is None]
    assert stranger.detail == {"reason": "unknown_account"}  # the name typed is not kept
    throttled = _one(web_db, since, "auth.login", outcome="throttled")
    assert throttled.actor == account and 1 <= throttled.detail["retry_after"] <= 30
    _no_secrets(web_db, since, PASSWORD, "wrong-password", unknown, "typed-in-the-wrong-box")
    _no_secrets(web_db, since, username, "10.66.0.1")


async def test_sign_out_and_every_end_of_a_session(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    since = datetime.now(UTC)
    account = staff.ids["specialist2"]
    name = staff.names["specialist2"]

    # signed out
    c = await sign_in(web_app, name)
    assert (await c.post("/logout", data={"csrf_token": await csrf(c)})).status_code == 200
    _one(web_db, since, "auth.logout", actor=account, outcome="ok")

    def age(cookie: str | None, **values: datetime) -> None:
        with session_scope(web_db) as session:
            session.execute(
                update(StaffSession)
                .where(col(StaffSession.token_hash) == token_hash(cookie or ""))
                .values(**values)
            )

    # idle, then past the absolute limit
    c = await sign_in(web_app, name)
    age(c.cookies.get(SESSION), last_seen_at=datetime.now(UTC) - timedelta(hours=1))
    assert (await c.get("/queue")).status_code == 401
    _one(web_db, since, "auth.session_end", actor=account, detail_reason="idle")
    c = await sign_in(web_app, name)
    age(c.cookies.get(SESSION), expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert (await c.get("/queue")).status_code == 401
    _one(web_db, since, "auth.session_end", actor=account, detail_reason="expired")

    # replaced by signing in again in the same browser
    c = await sign_in(web_app, name)
    page = await c.get("/login?next=/queue")
    assert page.status_code == 303  # already signed in; sign in again through the form
    token = csrf_from((await c.get("/status")).text)
    again = await c.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}
    )
    assert again.status_code == 303
    _one(web_db, since, "auth.session_end", actor=account, detail_reason="replaced")

    # ended by an admin's change to the account (the actor is the admin)
    admin = staff.ids["admin"]
    update_user(web_db, account, sites="all", by=admin)
    ended = _one(web_db, since, "auth.session_end", detail_reason="account_changed")
    assert ended.actor == admin and ended.detail["account"] == account
    assert ended.detail["sessions"] >= 1
    await c.aclose()


async def test_an_account_deactivated_while_signed_in_ends_its_session(
    web_app: FastAPI, web_db: str
) -> None:
    name = f"ev.gone.{uuid.uuid4().hex[:6]}"
    account = add_staff(web_db, name, PASSWORD, "specialist", "all")
    c = await sign_in(web_app, name)
    since = datetime.now(UTC)
    from store.web_models import StaffUser

    with session_scope(web_db) as session:  # flipped directly: the session row is still there
        session.execute(update(StaffUser).where(col(StaffUser.id) == account).values(active=False))
    assert (await c.get("/queue")).status_code == 401
    _one(web_db, since, "auth.session_end", actor=account, detail_reason="account_inactive")
    await c.aclose()


async def test_403s_are_security_events(web_app: FastAPI, web_db: str, staff: Staff) -> None:
    since = datetime.now(UTC)
    spec_az = staff.ids["specialist_az"]
    c = await sign_in(web_app, staff.names["specialist_az"])
    # a page the role may not see
    assert (await c.get("/admin/users")).status_code == 403
    role = _one(web_db, since, "access.forbidden", actor=spec_az, detail_reason="role")
    assert role.detail == {"route": "/admin/users", "method": "GET", "reason": "role"}
    # another site's request
    other = insert_request(web_db, site="minnesota")
    assert (await c.get(f"/requests/{other}")).status_code == 403
    site = _one(web_db, since, "access.forbidden", actor=spec_az, detail_reason="site")
    assert site.detail == {
        "route": "/requests/{request_id}",
        "method": "GET",
        "reason": "site",
        "request_id": other,
    }
    # a form posted from another site, and one without its token
    token = await csrf(c)
    forged = await c.post(
        "/queue/next", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    origin = _one(web_db, since, "access.cross_site", detail_reason="origin")
    assert origin.actor == spec_az and origin.outcome == "refused"
    assert (await c.post("/queue/next", data={"csrf_token": "forged"})).status_code == 403
    _one(web_db, since, "access.cross_site", actor=spec_az, detail_reason="token")
    _no_secrets(web_db, since, token, "Synthetic Testpatient", "1984-03-09")
    await c.aclose()


async def test_account_changes_from_the_admin_page(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    since = datetime.now(UTC)
    admin = staff.ids["admin"]
    c = await sign_in(web_app, staff.names["admin"])
    name = f"ev.new.{uuid.uuid4().hex[:6]}"
    secret = "brand-new-password-77"
    created = await c.post(
        "/admin/users",
        data={
            "username": name,
            "role": "specialist",
            "sites": ["arizona"],
            "csrf_token": await csrf(c),
        },
    )
    assert created.status_code == 200, created.text[:300]  # the page shows its one-time link
    event = _one(web_db, since, "account.create", actor=admin)
    account = event.detail["account"]
    assert event.detail == {"account": account, "role": "specialist", "sites": ["arizona"]}

    async def post(role: str, sites: list[str], active: bool) -> None:
        data: dict[str, Any] = {"role": role, "sites": sites, "csrf_token": await csrf(c)}
        if active:
            data["active"] = "on"
        answer = await c.post(f"/admin/users/{account}", data=data)
        assert answer.status_code == 303, answer.text[:300]

    await post("supervisor", ["arizona"], True)
    role = _one(web_db, since, "account.role_change", actor=admin)
    assert role.detail == {"account": account, "from": "specialist", "to": "supervisor"}
    await post("supervisor", ["arizona", "florida"], True)
    sites = _one(web_db, since, "account.sites_change", actor=admin)
    assert sites.detail == {"account": account, "from": ["arizona"], "to": ["arizona", "florida"]}
    await post("supervisor", ["arizona", "florida"], False)
    _one(web_db, since, "account.deactivate", actor=admin, detail_account=account)
    await post("supervisor", ["arizona", "florida"], True)
    _one(web_db, since, "account.reactivate", actor=admin, detail_account=account)
    reset = await c.post(f"/admin/users/{account}/reset", data={"csrf_token": await csrf(c)})
    assert reset.status_code == 200, reset.text[:300]
    _one(web_db, since, "account.credentials_reset", actor=admin, detail_account=account)
    _one(web_db, since, "account.enrolment_issued", actor=admin, detail_purpose="reset")
    link = re.search(r"/enrol/([\w-]+)", reset.text)
    assert link
    complete_enrolment(web_db, link.group(1), "another-password-88")
    _one(web_db, since, "account.password_change", actor=account, detail_how="enrolment")
    # an unchanged form changes nothing worth an event (but still ends the sessions)
    before = len(_events(web_db, since))
    await post("supervisor", ["arizona", "florida"], True)
    assert [e.action for e in _events(web_db, since)[before:]] == []
    _no_secrets(web_db, since, secret, "another-password-88", name)
    await c.aclose()


@pytest.fixture
def cli_db(web_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ROI_DATABASE_URL", web_db)
    get_settings.cache_clear()
    yield web_db
    get_settings.cache_clear()


def test_account_and_token_commands_are_security_events(cli_db: str) -> None:
    since = datetime.now(UTC)
    name = f"ev.cli.{uuid.uuid4().hex[:6]}"
    secret = "cli-password-123456"
    made = runner.invoke(roi, ["users", "create", name, "--role", "specialist"])
    assert made.exit_code == 0, made.output
    link = re.search(r"/enrol/(\S+)", made.output)
    assert link
    complete_enrolment(cli_db, link.group(1), secret)
    created = _one(cli_db, since, "account.create", detail_sites="all")
    _one(cli_db, since, "account.password_change", actor=created.detail["account"])
    assert created.actor is not None and created.actor.startswith("cli")
    assert runner.invoke(roi, ["users", "deactivate", name]).exit_code == 0
    gone = _one(cli_db, since, "account.deactivate", detail_account=created.detail["account"])
    assert gone.actor == created.actor
    client_name = f"ev-portal-{uuid.uuid4().hex[:6]}"
    issued = runner.invoke(roi, ["users", "create-token", client_name])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    _one(cli_db, since, "token.create", detail_client=client_name, actor=created.actor)
    assert runner.invoke(roi, ["users", "revoke-token", client_name]).exit_code == 0
    _one(cli_db, since, "token.revoke", detail_client=client_name, actor=created.actor)
    _no_secrets(cli_db, since, secret, token, token_hash(token), name, link.group(1))


def test_security_events_cannot_be_changed_by_the_app(web_db: str) -> None:
    """The events above are evidence: the app's own role can add them, never alter them."""
    import psycopg

    with psycopg.connect(web_db.replace("+psycopg", ""), autocommit=True) as conn:
        for statement in (
            "UPDATE security_events SET outcome = 'ok'",
            "DELETE FROM security_events",
            "TRUNCATE security_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
