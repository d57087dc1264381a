"""Documents in by the fax gateway's webhook and by staff upload, stored before anything else;
a wrong signature stores nothing; the Intake list shows them beside the submissions refused at
intake; a file OCR cannot read is listed as "could not be read"."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from app.routes.inbound import SIGNATURE_HEADER, fax_secret, sign
from config.production import demo_settings_in_use
from config.settings import Settings
from store import documents
from store.db import session_scope
from store.models import RequestEvent, SecurityEvent
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import client, csrf, sign_in

TIFF_MAGIC = b"II*\x00"


def _pdf() -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 720, "Request for records (synthetic)")
    canvas.save()
    return out.getvalue()


def _tiff() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (400, 300), 1).save(out, format="TIFF", compression="group4", dpi=(204, 196))
    return out.getvalue()


def _count(database_url: str) -> int:
    with session_scope(database_url) as session:
        return int(
            session.execute(
                select(func.count()).select_from(documents.InboundDocument)
            ).scalar_one()
        )


async def _fax(
    app: FastAPI, body: bytes, content_type: str, *, fax_id: str | None = None, **headers: str
) -> httpx.Response:
    secret = fax_secret(app.state.ctx.settings)
    assert secret is not None
    sent = {
        "content-type": content_type,
        SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        "X-Fax-To": "+1 507-284-0161",
        "X-Fax-From": "+1 555 010 0199",
        **headers,
    }
    if fax_id:
        sent["X-Fax-Id"] = fax_id
    async with client(app) as c:
        return await c.post("/api/v1/inbound/fax", content=body, headers=sent)


async def _until(database_url: str, document_id: str, statuses: set[str], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(database_url) as session:
            row = documents.get(session, document_id)
            assert row is not None
            if row.status in statuses:
                session.expunge(row)
                return row
        assert time.monotonic() < deadline, f"still {row.status}"
        await asyncio.sleep(0.5)


async def test_the_webhook_stores_a_pdf_and_a_tiff_once_each(
    web_app: FastAPI, web_worker: Harness
) -> None:
    db = web_worker.database_url
    pdf, tiff = _pdf(), _tiff()
    first = await _fax(web_app, pdf, "application/pdf", fax_id="gw-1001")
    assert first.status_code == 202, first.text
    again = await _fax(web_app, pdf, "application/pdf", fax_id="gw-1001")  # the gateway retries
    assert again.status_code == 200 and again.json() == {
        "document_id": first.json()["document_id"],
        "duplicate": True,
    }
    second = await _fax(web_app, tiff, "image/tiff", fax_id="gw-1002")
    assert second.status_code == 202
    for answer, body, kind in ((first, pdf, "application/pdf"), (second, tiff, "image/tiff")):
        with session_scope(db) as session:
            row = documents.get(session, answer.json()["document_id"], with_content=True)
            assert row is not None
            assert bytes(row.content) == body and row.content_type == kind
            assert row.channel == "fax" and row.site is None  # 507-284-0161 not configured here
            assert row.received_at is not None and row.sha256


async def test_a_bad_signature_is_401_and_stores_nothing(
    web_app: FastAPI, web_worker: Harness
) -> None:
    db = web_worker.database_url
    before = _count(db)
    body = _pdf()
    stale = sign(fax_secret(web_app.state.ctx.settings) or "", body, int(time.time()) - 3600)
    for header in (
        sign("not-the-gateways-key-at-all-0123456789", body, int(time.time())),
        stale,  # a captured delivery replayed an hour later
        "",
        "t=1,v1=zz",
    ):
        async with client(web_app) as c:
            answer = await c.post(
                "/api/v1/inbound/fax",
                content=body,
                headers={"content-type": "application/pdf", SIGNATURE_HEADER: header},
            )
        assert answer.status_code == 401, header
    async with client(web_app) as c:  # no signature header at all: not even past CSRF
        assert (await c.post("/api/v1/inbound/fax", content=body)).status_code in (401, 403)
    assert _count(db) == before
    with session_scope(db) as session:
        refused = session.execute(
            select(func.count()).where(
                col(SecurityEvent.action) == "api.token", col(SecurityEvent.outcome) == "failed"
            )
        ).scalar_one()
    assert refused >= 3  # the empty header never reaches the route (401 before CSRF)


def test_the_demo_fax_key_is_refused_outside_local_and_test() -> None:
    demo = Settings(env="production", inbound_fax_secret="dev-only-fax-secret-change-me")
    assert "ROI_INBOUND_FAX_SECRET" in {r.variable for r in demo_settings_in_use(demo, "web")}
    short = Settings(env="production", inbound_fax_secret="short")
    assert "ROI_INBOUND_FAX_SECRET" in {r.variable for r in demo_settings_in_use(short, "web")}
    off = Settings(env="production")  # unset: the webhook is off, nothing to refuse
    assert fax_secret(off) is None
    assert "ROI_INBOUND_FAX_SECRET" not in {r.variable for r in demo_settings_in_use(off, "web")}


async def test_an_unreadable_file_is_listed_for_manual_keying_beside_refused_submissions(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    db = web_worker.database_url
    junk = await _fax(web_app, b"this is not a scan at all", "application/octet-stream")
    assert junk.status_code == 202
    junk_id = junk.json()["document_id"]
    row = await _until(db, junk_id, {documents.UNREADABLE}, 60)
    assert row.ocr_error == "not_pdf_or_image"

    refused = factories.own_records(site="minnesota")
    refused["patient"] = {**refused["patient"], "date_of_birth": "1984-02-31"}
    kept = await web_worker.submit(refused)
    assert not kept.accepted

    spec = await sign_in(web_app, staff.names["specialist"])
    listing = (await spec.get("/intake/documents")).text
    assert f'data-document="{junk_id}"' in listing and "Could not be read" in listing
    assert f'data-submission="{kept.submission_id}"' in listing
    assert f'href="/intake/review/{kept.submission_id}"' in listing
    az = await sign_in(web_app, staff.names["specialist_az"])  # a site-less fax: all-site staff
    assert f'data-document="{junk_id}"' not in (await az.get("/intake/documents")).text
    assert (await az.get(f"/intake/documents/{junk_id}")).status_code == 403
    page = await spec.get(f"/intake/documents/{junk_id}")
    assert page.status_code == 200 and 'id="doc-unreadable"' in page.text
    with session_scope(db) as session:
        opened = (
            session.execute(
                select(col(RequestEvent.action)).where(
                    col(RequestEvent.request_id) == f"doc-{junk_id}"
                )
            )
            .scalars()
            .all()
        )
    assert "document.opened" in opened
    discarded = await spec.post(
        f"/intake/documents/{junk_id}/discard",
        data={"csrf_token": await csrf(spec), "reason": "junk"},
    )
    assert discarded.status_code == 303
    assert f'data-document="{junk_id}"' not in (await spec.get("/intake/documents")).text
    for c in (spec, az):
        await c.aclose()
