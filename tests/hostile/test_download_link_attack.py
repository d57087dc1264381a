"""A forwarded download link, as an attacker uses it (issue 14).

Before: anyone holding the email's link downloaded the records, from any device, as often as
they liked until it expired. Now: the link's first download is served and its browser gets a
random device cookie (`__Host-roi_device`, hashed in the access event); that device downloads
again for ROI_WEB_DOWNLOAD_DEVICE_HOURS. Any other device gets a date-of-birth form: without
the date, no records; a wrong date is an access event (`dob_wrong`) and a security event and
counts toward the per-address and per-link throttles (429 after a few, even for the right
date); the right date serves the records and is recorded (`confirmed`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from app.config import WebSettings
from app.main import create_app
from config.settings import Settings
from services import links as link_service
from store import links
from store.db import session_scope
from store.models import DownloadAccess, SecurityEvent
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import client, csrf_from, insert_request

DOB = date(1979, 11, 23)
PDF = b"%PDF-1.4 synthetic records of Lindqvist Testpatient\n%%EOF\n"


@pytest.fixture
def make_app(
    web_db: str, web_env: WorkflowEnvironment, web_worker: Harness, staff: Staff
) -> Callable[..., FastAPI]:
    """An app of the test's own, with the default download throttles."""

    def build(**web: Any) -> FastAPI:
        web.setdefault("throttle_base_delay_seconds", 30.0)
        settings = Settings(task_queue=web_worker.task_queue, outbox_dir=web_worker.outbox)
        return create_app(
            settings,
            database_url=web_db,
            temporal_client=web_env.client,
            web=WebSettings(cookie_secure=True, **web),
        )

    return build


def _link(web_db: str, tmp_path: Path, app: FastAPI) -> tuple[str, str, str]:
    """A live link to a request's released records: (request id, link id, the email's URL)."""
    rid = insert_request(web_db, patient_dob=DOB, status="completed")
    package = tmp_path / f"{rid}.pdf"
    package.write_bytes(PDF)
    link = links.create_link(
        web_db,
        delivery_key=f"{rid}-deliver",
        request_id=rid,
        patient_key=None,
        package_path=str(package),
        content_type="application/pdf",
        now=datetime.now(UTC),
        ttl=timedelta(days=30),
    )
    token = links.LinkSigner(app.state.ctx.settings.link_secret).token(link.id)
    return rid, link.id, f"/download/{token}"


def _outcomes(web_db: str, rid: str) -> list[tuple[str, str | None]]:
    with session_scope(web_db) as session:
        return [
            (a.outcome, a.device)
            for a in session.execute(
                select(DownloadAccess)
                .where(col(DownloadAccess.request_id) == rid)
                .order_by(col(DownloadAccess.id))
            ).scalars()
        ]


async def _confirm(c: httpx.AsyncClient, url: str, dob: str) -> httpx.Response:
    form = await c.get(url)
    assert form.status_code == 200 and 'id="dob-form"' in form.text
    return await c.post(url, data={"date_of_birth": dob, "csrf_token": csrf_from(form.text)})


async def test_a_forwarded_link_on_a_second_device_gets_no_records_without_the_dob(
    make_app: Callable[..., FastAPI], web_db: str, tmp_path: Path
) -> None:
    app = make_app()
    rid, _link_id, url = _link(web_db, tmp_path, app)
    async with client(app, address="10.91.0.1") as patient:
        first = await patient.get(url)
        assert first.status_code == 200 and first.content == PDF
        cookie = first.headers["set-cookie"]
        assert cookie.startswith("__Host-roi_device=")
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()
        assert "path=/" in cookie.lower() and "domain" not in cookie.lower()
        again = await patient.get(url)  # the same browser, within its hours
        assert again.status_code == 200 and again.content == PDF

    async with client(app, address="10.91.0.2") as attacker:  # the forwarded email
        page = await attacker.get(url)
        assert page.status_code == 200 and PDF not in page.content
        assert page.headers["content-type"].startswith("text/html")
        assert "date of birth" in page.text and "Lindqvist" not in page.text
        assert PDF not in (await attacker.get(url)).content  # asking again changes nothing
        # with the right date of birth it works, and is recorded
        served = await _confirm(attacker, url, DOB.isoformat())
        assert served.status_code == 200 and served.content == PDF
        assert served.headers["cache-control"] == "no-store"

    outcomes = _outcomes(web_db, rid)
    assert [o for o, _ in outcomes] == [
        "served",
        "repeat",
        "dob_asked",
        "dob_asked",
        "dob_asked",
        "confirmed",
    ]
    devices = [d for _, d in outcomes]
    assert devices[0] == devices[1] and devices[0] != devices[2]
    assert all(d and len(d) == 64 for d in devices)  # hashes, never the cookie itself
    with session_scope(web_db) as session:
        [listed] = link_service.links_of(session, rid)
    assert listed[1:] == (3, 3)  # served, refused: on the request page


async def test_the_same_device_after_its_hours_must_confirm(
    make_app: Callable[..., FastAPI], web_db: str, tmp_path: Path
) -> None:
    app = make_app()
    rid, link_id, url = _link(web_db, tmp_path, app)
    async with client(app, address="10.92.0.1") as patient:
        assert (await patient.get(url)).content == PDF
        device = _outcomes(web_db, rid)[0][1]
    # the same device 25 hours later (the default is 24): the decision on a later clock
    later = datetime.now(UTC) + timedelta(hours=25)
    with session_scope(web_db) as session:
        outcome, _ = link_service.open_download(
            session, link_id, now=later, client="c", device=device
        )
    assert outcome == "dob_asked"
    within = datetime.now(UTC) + timedelta(hours=23)
    with session_scope(web_db) as session:
        outcome, _ = link_service.open_download(
            session, link_id, now=within, client="c", device=device
        )
    assert outcome == "repeat"
    # and through the app, with the hours set to none: the same browser is asked at once
    strict = make_app(download_device_hours=0)
    rid2, _, url2 = _link(web_db, tmp_path, strict)
    async with client(strict, address="10.92.0.2") as patient:
        assert (await patient.get(url2)).content == PDF
        again = await patient.get(url2)
        assert again.status_code == 200 and PDF not in again.content
        assert "date of birth" in again.text
    assert [o for o, _ in _outcomes(web_db, rid2)] == ["served", "dob_asked"]


async def test_wrong_dates_of_birth_are_recorded_and_throttled(
    make_app: Callable[..., FastAPI], web_db: str, tmp_path: Path
) -> None:
    app = make_app()
    rid, _link_id, url = _link(web_db, tmp_path, app)
    async with client(app, address="10.93.0.1") as patient:
        assert (await patient.get(url)).content == PDF
    limit = WebSettings().download_dob_max_failures

    async def guess(n: int) -> int:
        # each guess from its own address: only the per-link throttle stands in the way
        async with client(app, address=f"10.94.{n // 200}.{n % 200 + 1}") as c:
            form = await c.get(url)
            token = csrf_from(form.text)
            dob = DOB.isoformat() if n == 19 else f"19{50 + n}-01-01"
            answer = await c.post(url, data={"date_of_birth": dob, "csrf_token": token})
            assert PDF not in answer.content or n == 19
            return answer.status_code

    codes = await asyncio.gather(*(guess(n) for n in range(20)))
    assert codes.count(403) + codes.count(200) <= limit, codes  # at most the limit compared
    assert codes.count(429) >= 20 - limit
    outcomes = [o for o, _ in _outcomes(web_db, rid)]
    assert outcomes.count("dob_wrong") + outcomes.count("confirmed") <= limit
    with session_scope(web_db) as session:
        events = list(
            session.execute(
                select(SecurityEvent)
                .where(col(SecurityEvent.action) == "download.link")
                .where(col(SecurityEvent.at) >= datetime.now(UTC) - timedelta(minutes=5))
            ).scalars()
        )
    wrong = [e for e in events if e.outcome == "failed" and e.detail.get("request_id") == rid]
    assert len(wrong) == outcomes.count("dob_wrong") >= 1
    assert any(e.outcome == "throttled" for e in events)
    assert str(DOB) not in str([e.detail for e in events])  # never the answer

    # one address guessing one link: after the limit even the right date waits
    _rid2, _, url2 = _link(web_db, tmp_path, app)
    async with client(app, address="10.95.0.1") as first:
        assert (await first.get(url2)).content == PDF
    async with client(app, address="10.95.0.2") as c:
        statuses = [(await _confirm(c, url2, f"1960-02-{d:02d}")).status_code for d in range(1, 6)]
        assert statuses == [403] * 5
        form = await c.get(url2)
        blocked = await c.post(
            url2, data={"date_of_birth": DOB.isoformat(), "csrf_token": csrf_from(form.text)}
        )
        assert blocked.status_code == 429 and PDF not in blocked.content
