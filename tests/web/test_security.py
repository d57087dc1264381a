"""CSRF, sessions (expiry, logout, cookie flags), sign-in throttling, the public status lookup
(rate limit, never revealing whether a tracking number exists), headers, no PHI in logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from temporalio.testing import WorkflowEnvironment

from app.config import WebSettings
from app.main import create_app
from config.settings import Settings
from store.db import session_scope
from store.models import RecordRequest, RequestEvent
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
    second_factor,
    sign_in,
)


async def test_every_form_needs_its_csrf_token(web_app: FastAPI, staff: Staff) -> None:
    c = await sign_in(web_app, staff.names["specialist"])
    token = await csrf(c)
    assert (await c.post("/queue/next")).status_code == 403
    assert (await c.post("/queue/next", data={"csrf_token": "forged"})).status_code == 403
    other = await sign_in(web_app, staff.names["specialist2"])  # another session's token
    assert (await c.post("/queue/next", data={"csrf_token": await csrf(other)})).status_code == 403
    cross = await c.post(
        "/queue/next", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert (await c.post("/queue/next", data={"csrf_token": token})).status_code == 303
    # The JSON API with a session cookie needs the header; a bearer token does not.
    api = await c.post("/api/v1/requests/access_own", json={})
    assert api.status_code == 403
    api = await c.post("/api/v1/requests/access_own", json={}, headers={"X-CSRF-Token": token})
    assert api.status_code == 422
    # Sign-in and status forms carry a double-submit token before anyone is signed in.
    async with client(web_app) as anon:
        no_token = await anon.post("/login", data={"username": "x", "password": "y"})
        assert no_token.status_code == 403
        assert (
            await anon.post("/status", data={"tracking_number": "x", "date_of_birth": "2000-01-01"})
        ).status_code == 403
    await c.aclose()
    await other.aclose()


async def test_session_cookie_flags_and_headers(web_app: FastAPI, staff: Staff) -> None:
    async with client(web_app) as c:
        page = await c.get("/login")
        anon = page.headers["set-cookie"].lower()
        # the double-submit cookie: __Host- (Secure, Path=/, no Domain), SameSite=Strict
        assert anon.startswith("__host-roi_csrf=") and "samesite=strict" in anon
        assert "secure" in anon and "path=/" in anon and "domain" not in anon
        assert c.cookies.get("__Host-roi_csrf") and c.cookies.get("roi_csrf") is None
        r = await c.post(
            "/login",
            data={
                "username": staff.names["specialist"],
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
            },
        )
        cookie = r.headers["set-cookie"].lower()
        # the pending (password-only) session is the same __Host- cookie
        assert cookie.startswith("__host-roi_session=") and "httponly" in cookie
        assert "secure" in cookie and "domain" not in cookie
        assert "samesite=lax" in cookie and "path=/" in cookie
        assert (await c.get("/queue")).status_code == 401  # the password alone opens nothing
        done = await second_factor(web_app, c, staff.names["specialist"], r.headers["location"])
        full = done.headers["set-cookie"].lower()
        assert full.startswith("__host-roi_session=") and "secure" in full and "path=/" in full
        assert "domain" not in full and "httponly" in full
        assert c.cookies.get("roi_session") is None
        queue = await c.get("/queue")
        assert queue.headers["cache-control"] == "no-store"
        assert queue.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in queue.headers["content-security-policy"]
        assert queue.headers["x-content-type-options"] == "nosniff"
        # served over https (this client's scheme): HSTS
        hsts = "max-age=31536000; includeSubDomains"
        assert queue.headers["strict-transport-security"] == hsts


HSTS = "max-age=31536000; includeSubDomains"


def _app(web_db: str, env: WorkflowEnvironment, trusted_proxies: str = "", **web: Any) -> FastAPI:
    """An app of the test's own (settings the package's shared app does not have)."""
    return create_app(
        Settings(trusted_proxies=trusted_proxies),
        database_url=web_db,
        temporal_client=env.client,
        web=WebSettings(**web),
    )


def _plain(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client over plain http from `address`."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="http://testserver",
        follow_redirects=False,
    )


async def test_hsts_only_over_tls(
    web_app: FastAPI, web_db: str, web_env: WorkflowEnvironment
) -> None:
    # over https: HSTS on every answer (a page, a 401, a static file)
    async with client(web_app) as c:
        for path in ("/login", "/queue", "/static/app.css"):
            assert (await c.get(path)).headers.get("strict-transport-security") == HSTS, path
    # plain http: never, whatever a client claims in X-Forwarded-Proto
    async with _plain(web_app, "10.1.2.3") as c:
        assert "strict-transport-security" not in (await c.get("/login")).headers
        claimed = await c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in claimed.headers
    # behind a trusted proxy (ROI_TRUSTED_PROXIES) that terminated TLS: HSTS
    proxied = _app(web_db, web_env, trusted_proxies="10.0.0.0/8", cookie_secure=True)
    async with _plain(proxied, "10.1.2.3") as c:
        tls = await c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert tls.headers.get("strict-transport-security") == HSTS
        plain = await c.get("/login", headers={"X-Forwarded-Proto": "http"})
        assert "strict-transport-security" not in plain.headers
        assert "strict-transport-security" not in (await c.get("/login")).headers
        # a client in front of the proxy cannot prepend its own claim
        chained = await c.get("/login", headers={"X-Forwarded-Proto": "https, http"})
        assert "strict-transport-security" not in chained.headers
    # the same header from a peer that is not a trusted proxy is ignored
    async with _plain(proxied, "192.0.2.44") as c:
        forged = await c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in forged.headers


async def test_plain_http_off_loopback_uses_unprefixed_cookies(
    web_db: str, web_env: WorkflowEnvironment, staff: Staff
) -> None:
    """ROI_WEB_COOKIE_SECURE=false: a browser refuses __Host- cookies without Secure, so the
    names fall back to roi_csrf and roi_session (and sign-in works over plain http)."""
    insecure = _app(web_db, web_env, cookie_secure=False)
    async with _plain(insecure, "10.1.2.3") as c:
        page = await c.get("/login")
        anon = page.headers["set-cookie"]
        assert anon.startswith("roi_csrf=") and "Secure" not in anon
        r = await c.post(
            "/login",
            data={
                "username": staff.names["specialist"],
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
            },
        )
        assert r.status_code == 303
        assert r.headers["set-cookie"].startswith("roi_session=")
        assert "Secure" not in r.headers["set-cookie"]
        await second_factor(insecure, c, staff.names["specialist"], r.headers["location"])
        assert c.cookies.get("roi_session") and c.cookies.get(SESSION) is None
        queue = await c.get("/queue")
        assert queue.status_code == 200
        assert "strict-transport-security" not in queue.headers


async def test_idle_and_absolute_expiry_and_logout(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    c = await sign_in(web_app, staff.names["specialist"])
    assert (await c.get("/queue")).status_code == 200
    token = c.cookies.get(SESSION)
    from app.security import token_hash

    def age(**values: datetime) -> None:
        with session_scope(web_db) as session:
            session.execute(
                update(StaffSession)
                .where(StaffSession.token_hash == token_hash(token or ""))
                .values(**values)
            )

    # Idle longer than the limit: signed out, told so, cookie cleared, session row gone.
    age(last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
    expired = await c.get("/queue")
    assert expired.status_code == 401 and "session has ended" in expired.text
    cleared = expired.headers.get("set-cookie", "")
    assert cleared.startswith(f"{SESSION}=") and "Max-Age=0" in cleared
    assert "Secure" in cleared and "Path=/" in cleared  # else a browser keeps a __Host- cookie
    with session_scope(web_db) as session:
        assert session.get(StaffSession, token_hash(token or "")) is None

    # Past the absolute limit, even while active.
    c = await sign_in(web_app, staff.names["specialist"])
    token = c.cookies.get(SESSION)
    age(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert (await c.get("/queue")).status_code == 401

    # Logout ends the session on the server, not just in the browser.
    c = await sign_in(web_app, staff.names["specialist"])
    token = c.cookies.get(SESSION)
    assert (await c.post("/logout", data={"csrf_token": await csrf(c)})).status_code == 200
    with session_scope(web_db) as session:
        assert session.get(StaffSession, token_hash(token or "")) is None
    c.cookies.set(SESSION, token or "", domain="testserver")
    assert (await c.get("/queue")).status_code == 401
    await c.aclose()


async def test_wrong_passwords_are_throttled(web_app: FastAPI, web_db: str) -> None:
    add_staff(web_db, "web.throttled", PASSWORD, "specialist", "all")
    add_staff(web_db, "web.throttled2", PASSWORD, "specialist", "all")
    async with client(web_app, address="10.9.8.7") as c:
        page = await c.get("/login")
        token = csrf_from(page.text)
        codes = []
        for _ in range(6):
            r = await c.post(
                "/login",
                data={"username": "web.throttled", "password": "wrong-one-x", "csrf_token": token},
            )
            codes.append(r.status_code)
        assert codes == [401] * 5 + [429]
        right = await c.post(
            "/login", data={"username": "web.throttled", "password": PASSWORD, "csrf_token": token}
        )
        assert right.status_code == 429 and "retry-after" in right.headers
    # Unknown usernames get the same answer as known ones.
    async with client(web_app, address="10.9.8.6") as c:
        token = csrf_from((await c.get("/login")).text)
        unknown = await c.post(
            "/login", data={"username": "nobody.here", "password": "x" * 12, "csrf_token": token}
        )
        known = await c.post(
            "/login", data={"username": "web.throttled2", "password": "x" * 12, "csrf_token": token}
        )
        assert unknown.status_code == known.status_code == 401


def _body(html: str) -> str:
    """The page without its one-time token (so two answers can be compared)."""
    return html.replace(csrf_from(html), "TOKEN")


async def test_status_lookup_tells_stage_and_date_only(web_app: FastAPI, web_db: str) -> None:
    from datetime import date

    rid = insert_request(
        web_db,
        site="minnesota",
        status="awaiting_payment",
        patient_name="Quinn Statuscheck",
        patient_dob=date(1990, 5, 17),
    )
    with session_scope(web_db) as session:
        row = session.get(RecordRequest, rid)
        assert row is not None
        tracking, due = row.tracking_number, row.due_date
    async with client(web_app, address="10.1.1.1") as c:
        token = csrf_from((await c.get("/status")).text)
        r = await c.post(
            "/status",
            data={
                "tracking_number": tracking.lower().replace("-", ""),
                "date_of_birth": "1990-05-17",
                "csrf_token": token,
            },
        )
        assert r.status_code == 200
        assert "Waiting for payment" in r.text and due.strftime("%b %d %Y") in r.text
        for secret in ("Quinn", "Statuscheck", "access", "minnesota", "Minnesota"):
            assert secret not in r.text.split("<main")[1]
        wrong_dob = await c.post(
            "/status",
            data={"tracking_number": tracking, "date_of_birth": "1990-05-18", "csrf_token": token},
        )
        unknown = await c.post(
            "/status",
            data={
                "tracking_number": "ROI-00000-00000",
                "date_of_birth": "1990-05-17",
                "csrf_token": token,
            },
        )
        assert wrong_dob.status_code == unknown.status_code == 404
        assert _body(wrong_dob.text) == _body(unknown.text)  # existence is never revealed
    with session_scope(web_db) as session:
        looked = (
            session.execute(
                select(RequestEvent.actor).where(
                    RequestEvent.request_id == rid, RequestEvent.action == "status.looked_up"
                )
            )
            .scalars()
            .all()
        )
    assert looked == ["public"]


async def test_status_lookup_rate_limit(web_app: FastAPI, web_db: str) -> None:
    from datetime import date

    rid = insert_request(web_db, patient_dob=date(1975, 1, 2))
    with session_scope(web_db) as session:
        tracking = session.get(RecordRequest, rid).tracking_number  # type: ignore[union-attr]
    # From one address: five wrong answers, then even the right one is refused.
    async with client(web_app, address="10.2.2.2") as c:
        token = csrf_from((await c.get("/status")).text)
        codes = []
        for n in range(5):
            r = await c.post(
                "/status",
                data={
                    "tracking_number": f"ROI-AAAAA-0000{n}",
                    "date_of_birth": "1975-01-02",
                    "csrf_token": token,
                },
            )
            codes.append(r.status_code)
        right = await c.post(
            "/status",
            data={"tracking_number": tracking, "date_of_birth": "1975-01-02", "csrf_token": token},
        )
        assert codes == [404] * 5 and right.status_code == 429
        assert "Expected by" not in right.text
    # Guessing one tracking number's date of birth from many addresses is limited too.
    codes = []
    for n in range(6):
        async with client(web_app, address=f"10.3.3.{n}") as c:
            token = csrf_from((await c.get("/status")).text)
            r = await c.post(
                "/status",
                data={
                    "tracking_number": tracking,
                    "date_of_birth": f"1975-01-{10 + n}",
                    "csrf_token": token,
                },
            )
            codes.append(r.status_code)
    assert codes == [404] * 5 + [429]


async def test_request_views_are_audited_and_phi_stays_out_of_logs(
    web_app: FastAPI, web_db: str, staff: Staff, capsys: pytest.CaptureFixture[str]
) -> None:
    rid = insert_request(
        web_db,
        patient_name="Morgan Logwatch",
        requester_name="Morgan Logwatch",
        patient_mrn="MRN-7777777",
    )
    c = await sign_in(web_app, staff.names["specialist"])
    capsys.readouterr()
    page = await c.get(f"/requests/{rid}")
    assert page.status_code == 200 and "Morgan Logwatch" in page.text
    logs = capsys.readouterr()
    assert rid in logs.err  # opaque ids are logged ...
    for phi in ("Morgan", "Logwatch", "MRN-7777777", "1984-03-09"):
        assert phi not in logs.err and phi not in logs.out  # ... PHI never
    with session_scope(web_db) as session:
        views = (
            session.execute(
                select(RequestEvent.actor).where(
                    RequestEvent.request_id == rid, RequestEvent.action == "request.viewed"
                )
            )
            .scalars()
            .all()
        )
    assert views == [staff.ids["specialist"]]
    # The supervisor's audit trail shows who looked, and is itself audited.
    sup = await sign_in(web_app, staff.names["supervisor"])
    trail = await sup.get(f"/requests/{rid}/audit")
    assert trail.status_code == 200
    assert "request.viewed" in trail.text and staff.names["specialist"] in trail.text
    with session_scope(web_db) as session:
        actions = (
            session.execute(select(RequestEvent.action).where(RequestEvent.request_id == rid))
            .scalars()
            .all()
        )
    assert "audit.viewed" in actions
    await c.aclose()
    await sup.aclose()
