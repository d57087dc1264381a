"""Throttles under attack (issue 14, item 3), against the real database, at their defaults.

* 30 wrong passwords sent in parallel for one account: at most the limit (5) are checked
  (argon2 verifications counted, and failed-attempt security events); the rest are refused
  unchecked with 429 and Retry-After. Before: 24 of the 30 were checked.
* No lockout: the real owner signs in as soon as the wait has passed; the waits grow (1 s,
  2 s, 4 s…) up to a cap instead of locking anyone out.
* X-Forwarded-For is ignored unless the peer is in ROI_TRUSTED_PROXIES (a client cannot pick
  a fresh throttle bucket per request), and honoured from a trusted proxy; every launch command
  of the web app leaves X-Forwarded-For to the app (uvicorn --no-proxy-headers).
* The intake API is limited per token; wrong bearer tokens and wrong /download links per client
  address: 429 with Retry-After. Before: 40 of 40 calls, wrong tokens and wrong links were all
  answered (no limit); 30 parallel status lookups compared 20 dates of birth (limit 5).

Each test uses an app of its own (the package's shared app raises the per-address limits for
the other tests) over the shared database, Temporal test server and worker, with the default
allowances; the first wait is 30 s there (1 s by default), so a slow machine never lets an
attempt through between two others, except where a test waits one out.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

import app.routes.session as session_routes
from app import throttle
from app.accounts import create_api_token
from app.config import WebSettings
from app.main import create_app
from app.security import opaque
from config.settings import Settings
from store.db import session_scope
from store.models import DownloadAccess, SecurityEvent
from store.web_models import ThrottleBucket
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import ANON_CSRF, PASSWORD, add_staff, client, csrf_from

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/v1/requests/access_own"
#: A well-formed download token (itsdangerous' form) that no link was ever signed with.
FORGED_LINK = "IjAxaGZha2VmYWtlZmFrZWZha2VmYWtlZmFrZSI.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture
def make_app(
    web_db: str, web_env: WorkflowEnvironment, web_worker: Harness, staff: Staff
) -> Callable[..., FastAPI]:
    """An app of the test's own, with the default throttles unless told otherwise."""

    def build(trusted_proxies: str = "", **web: Any) -> FastAPI:
        web.setdefault("throttle_base_delay_seconds", 30.0)
        settings = Settings(
            task_queue=web_worker.task_queue,
            outbox_dir=web_worker.outbox,
            trusted_proxies=trusted_proxies,
        )
        return create_app(
            settings,
            database_url=web_db,
            temporal_client=web_env.client,
            web=WebSettings(cookie_secure=True, **web),
        )

    return build


@pytest.fixture
def counted_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password check the sign-in route makes (an argon2 verification each)."""
    checked: list[str] = []
    real = session_routes.check_password

    def counting(session: Any, username: str, password: str) -> Any:
        checked.append(username)
        return real(session, username, password)

    monkeypatch.setattr(session_routes, "check_password", counting)
    yield checked


def _events(database_url: str, action: str, since: datetime, **where: Any) -> list[SecurityEvent]:
    with session_scope(database_url) as session:
        query = select(SecurityEvent).where(
            col(SecurityEvent.action) == action, col(SecurityEvent.at) >= since
        )
        for name, value in where.items():
            query = query.where(getattr(SecurityEvent, name) == value)
        rows = list(session.execute(query).scalars())
        session.expunge_all()
        return rows


async def _login(c: httpx.AsyncClient, username: str, password: str, **headers: str) -> Any:
    token = c.cookies.get(ANON_CSRF) or csrf_from((await c.get("/login")).text)
    return await c.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers=headers,
    )


async def test_parallel_wrong_passwords_are_checked_at_most_the_limit(
    make_app: Callable[..., FastAPI], web_db: str, counted_checks: list[str]
) -> None:
    app = make_app()
    username = f"race.{uuid.uuid4().hex[:8]}"
    account = add_staff(web_db, username, PASSWORD, "specialist", "all")
    since = datetime.now(UTC)
    async with client(app, address="10.77.0.1") as c:
        await c.get("/login")
        answers = await asyncio.gather(
            *(_login(c, username, f"wrong-guess-{i:04d}") for i in range(30))
        )
    codes = sorted(a.status_code for a in answers)
    limit = WebSettings().login_max_failures
    assert 1 <= len(counted_checks) <= limit, f"{len(counted_checks)} of 30 checked (limit {limit})"
    assert codes == [401] * len(counted_checks) + [429] * (30 - len(counted_checks))
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)
    failed = _events(web_db, "auth.login", since, outcome="failed", actor=account)
    throttled = _events(web_db, "auth.login", since, outcome="throttled", actor=account)
    assert len(failed) == len(counted_checks) and len(throttled) == 30 - len(counted_checks)


async def test_no_lockout_the_owner_signs_in_once_the_wait_has_passed(
    make_app: Callable[..., FastAPI], web_db: str, counted_checks: list[str]
) -> None:
    app = make_app(throttle_base_delay_seconds=3.0)
    username = f"victim.{uuid.uuid4().hex[:8]}"
    add_staff(web_db, username, PASSWORD, "specialist", "all")
    async with client(app, address="10.77.0.2") as attacker:
        for i in range(5):
            assert (await _login(attacker, username, f"wrong-guess-{i}")).status_code == 401
        refused = await _login(attacker, username, "wrong-guess-6")
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert wait == 3  # the first wait (1 s by default) after the fifth failure; not 15 min
    async with client(app, address="10.77.0.3") as owner:
        early = await _login(owner, username, PASSWORD)
        assert early.status_code == 429  # even the right password waits (it is not checked)
        checks = len(counted_checks)
        await asyncio.sleep(wait + 0.1)
        signed_in = await _login(owner, username, PASSWORD)
        assert signed_in.status_code == 303, signed_in.text[:300]
        assert len(counted_checks) == checks + 1
    # Success forgets the account's failures: a typo now is an ordinary 401.
    async with client(app, address="10.77.0.2") as again:
        assert (await _login(again, username, "one-typo-here")).status_code == 401


def test_the_waits_grow_and_are_capped() -> None:
    """A bucket that keeps failing waits 1, 2, 4, 8… seconds, never more than the cap, and is
    forgotten after a quiet window: nobody is ever locked out for good."""
    web = WebSettings()
    policy = throttle.Policy(
        web.login_max_failures,
        timedelta(minutes=web.login_window_minutes),
        cap_seconds=web.throttle_max_delay_seconds,
    )
    now = datetime.now(UTC)
    state = throttle.State(0, now, now, None)
    waits = []
    for _ in range(20):
        admitted, _ = throttle.decide(state, policy, now)
        assert admitted is not None
        state = admitted
        wait = (state.blocked_until - now).total_seconds() if state.blocked_until else 0
        waits.append(wait)
        now = state.blocked_until or now
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:9] == [1, 2, 4, 8, 16]
    assert max(waits) == web.throttle_max_delay_seconds
    later, _ = throttle.decide(state, policy, now + timedelta(minutes=web.login_window_minutes))
    assert later is not None and later.count == 1 and later.blocked_until is None


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    make_app: Callable[..., FastAPI], web_db: str
) -> None:
    """A client that sends a new X-Forwarded-For with each guess still fills its address's
    bucket (20 unsuccessful sign-ins, any usernames), and its guesses are refused."""
    app = make_app()  # ROI_TRUSTED_PROXIES unset: nobody is trusted
    limit = WebSettings().login_address_max_failures
    async with client(app, address="10.78.0.1") as c:
        for i in range(limit):
            spoofed = f"198.51.100.{i + 1}"
            answer = await _login(c, f"nobody.{i}", "x" * 12, **{"X-Forwarded-For": spoofed})
            assert answer.status_code == 401
        answer = await _login(c, "nobody.last", "x" * 12, **{"X-Forwarded-For": "198.51.100.99"})
        assert answer.status_code == 429 and "retry-after" in answer.headers
    with session_scope(web_db) as session:
        spoofed_buckets = session.execute(
            select(func.count())
            .select_from(ThrottleBucket)
            .where(col(ThrottleBucket.bucket) == f"login:ip:{opaque('198.51.100.1')}")
        ).scalar_one()
    assert spoofed_buckets == 0


async def test_forwarded_for_from_a_trusted_proxy_is_honoured(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app(trusted_proxies="10.79.0.0/16")
    limit = WebSettings().login_address_max_failures
    proxy = "10.79.0.5"
    async with client(app, address=proxy) as c:
        for i in range(limit):
            # a client may put anything first; the proxy appends the address it saw
            chain = f"192.0.2.{i}, 203.0.113.50"
            answer = await _login(c, f"nobody.p{i}", "x" * 12, **{"X-Forwarded-For": chain})
            assert answer.status_code == 401
        blocked = await _login(c, "nobody.q", "x" * 12, **{"X-Forwarded-For": "203.0.113.50"})
        assert blocked.status_code == 429
        # another client behind the same proxy has its own bucket
        other = await _login(c, "nobody.r", "x" * 12, **{"X-Forwarded-For": "203.0.113.51"})
        assert other.status_code == 401
        # hops that are proxies themselves are skipped, up to the first that is not
        via_two = "203.0.113.50, 10.79.0.9"
        again = await _login(c, "nobody.s", "x" * 12, **{"X-Forwarded-For": via_two})
        assert again.status_code == 429


def test_every_launch_of_the_web_app_leaves_forwarded_headers_to_the_app() -> None:
    """uvicorn rewrites the client address from X-Forwarded-For for FORWARDED_ALLOW_IPS
    (127.0.0.1 by default, `*` in the pods before): it must not, or the app's own rule
    (ROI_TRUSTED_PROXIES) would see an address the client chose."""
    demo = (ROOT / "ops" / "demo.py").read_text()
    assert '"--no-proxy-headers"' in demo
    commands: list[list[str]] = []
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd
    commands.append(yaml.safe_load(cmd.group(1)))
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    commands.append(compose["services"]["web"]["command"])
    for document in yaml.safe_load_all(
        (ROOT / "deploy" / "k8s" / "base" / "web-deployment.yaml").read_text()
    ):
        for container in document["spec"]["template"]["spec"]["containers"]:
            commands.append(container["command"])
            names = {v["name"] for v in container.get("env", [])}
            assert "FORWARDED_ALLOW_IPS" not in names
    assert commands
    for command in commands:
        assert "uvicorn" in command, command  # another server: check its proxy-header setting
        assert "--no-proxy-headers" in command and "--proxy-headers" not in command, command


async def test_the_intake_api_is_limited_per_token(
    make_app: Callable[..., FastAPI], web_db: str
) -> None:
    app = make_app(api_requests_per_minute=5)
    busy = create_api_token(web_db, f"busy-{uuid.uuid4().hex[:8]}")
    quiet = create_api_token(web_db, f"quiet-{uuid.uuid4().hex[:8]}")
    async with client(app, address="10.80.0.1") as c:
        codes = [
            (await c.post(URL, json={}, headers={"Authorization": f"Bearer {busy}"})).status_code
            for _ in range(5)
        ]
        assert codes == [422] * 5  # admitted (and refused per field)
        over = await c.post(URL, json={}, headers={"Authorization": f"Bearer {busy}"})
        assert over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 60
        assert "detail" in over.json()
        other = await c.post(URL, json={}, headers={"Authorization": f"Bearer {quiet}"})
        assert other.status_code == 422  # another client's token has its own allowance


async def test_wrong_bearer_tokens_are_throttled_per_address(
    make_app: Callable[..., FastAPI], web_db: str
) -> None:
    app = make_app()
    limit = WebSettings().api_max_failures
    since = datetime.now(UTC)
    good = create_api_token(web_db, f"good-{uuid.uuid4().hex[:8]}")
    async with client(app, address="10.81.0.1") as guesser:
        for i in range(limit):
            wrong = {"Authorization": f"Bearer roi_guess{i:04d}"}
            assert (await guesser.post(URL, json={}, headers=wrong)).status_code == 401
        refused = await guesser.post(URL, json={}, headers={"Authorization": "Bearer roi_more"})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["detail"]
    async with client(app, address="10.81.0.2") as portal:
        ok = await portal.post(URL, json={}, headers={"Authorization": f"Bearer {good}"})
        assert ok.status_code == 422  # the portal, elsewhere, is not affected
    client_label = opaque("10.81.0.1")
    failed = _events(web_db, "api.token", since, outcome="failed", client=client_label)
    throttled = _events(web_db, "api.token", since, outcome="throttled", client=client_label)
    assert len(failed) == limit and len(throttled) == 1


async def test_wrong_download_links_are_throttled_per_address(
    make_app: Callable[..., FastAPI], web_db: str
) -> None:
    app = make_app()
    limit = WebSettings().download_max_failures
    address = "10.82.0.1"
    async with client(app, address=address) as c:
        answers = await asyncio.gather(
            *(c.get(f"/download/{FORGED_LINK[:-4]}{i:04d}") for i in range(30))
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [404] * limit + [429] * (30 - limit)
        refused = next(a for a in answers if a.status_code == 429)
        assert int(refused.headers["retry-after"]) >= 1
        assert "Too many attempts" in refused.text
    with session_scope(web_db) as session:
        checked = session.execute(
            select(func.count())
            .select_from(DownloadAccess)
            .where(col(DownloadAccess.client) == opaque(address))
        ).scalar_one()
    assert checked == limit  # the other 20 were refused before the link was looked at
    async with client(app, address="10.82.0.2") as elsewhere:
        assert (await elsewhere.get(f"/download/{FORGED_LINK}")).status_code == 404


async def test_parallel_date_of_birth_guesses_on_the_status_page_are_checked_at_most_the_limit(
    make_app: Callable[..., FastAPI], web_db: str
) -> None:
    """Guessing a tracking number's date of birth in parallel from many addresses: at most the
    limit (5) are compared; the rest are refused unchecked, even the right date."""
    from datetime import date

    from store.models import RecordRequest
    from tests.web.helpers import insert_request

    app = make_app()
    rid = insert_request(web_db, patient_dob=date(1975, 1, 2))
    with session_scope(web_db) as session:
        row = session.get(RecordRequest, rid)
        assert row is not None
        tracking = row.tracking_number

    async def guess(n: int) -> int:
        async with client(app, address=f"10.83.{n // 200}.{n % 200 + 1}") as c:
            token = csrf_from((await c.get("/status")).text)
            dob = "1975-01-02" if n == 29 else f"19{40 + n}-06-15"
            data = {"tracking_number": tracking, "date_of_birth": dob, "csrf_token": token}
            return (await c.post("/status", data=data)).status_code

    codes = await asyncio.gather(*(guess(n) for n in range(30)))
    limit = WebSettings().status_max_failures
    assert codes.count(404) + codes.count(200) <= limit, codes
    assert codes.count(429) >= 30 - limit
