"""The release packet previewed before it leaves: the same record source and release checks as
the release (activities.channels.packet.gather), each document with the patient on it and its
pages, a preview PDF audited as a view, and the release started from the preview."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pikepdf
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services import links
from store.db import session_scope
from store.models import RequestEvent
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import csrf, sign_in
from tests.web.test_request_page import _act, _start, _wait_status, received_now


@pytest.fixture
async def spec(web_app: FastAPI, staff: Staff) -> httpx.AsyncClient:
    c = await sign_in(web_app, staff.names["specialist"])
    yield c
    await c.aclose()


def _actions(h: Harness, rid: str) -> list[str]:
    with session_scope(h.database_url) as session:
        return list(
            session.execute(
                select(RequestEvent.action).where(RequestEvent.request_id == rid)
            ).scalars()
        )


def _pages(pdf: bytes) -> int:
    with pikepdf.Pdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


async def test_the_preview_is_what_leaves(spec: httpx.AsyncClient, web_worker: Harness) -> None:
    rid = await _start(web_worker, factories.own_records(received_at=received_now()))
    assert (await _act(spec, rid, "verify", method="photo_id")).status_code == 303
    page = (await spec.get(f"/requests/{rid}")).text
    assert f'href="/requests/{rid}/packet"' in page

    preview = await spec.get(f"/requests/{rid}/packet")
    assert preview.status_code == 200
    text = preview.text
    rows = re.findall(r'data-document="\d+"', text)
    assert rows, "no documents listed"
    assert text.count("Avery Testpatient · 1984-03-09") == len(rows)  # the patient on each
    assert "✓ matches the request" in text and "not the request's patient" not in text
    total = int(re.search(r'id="packet-pages">(\d+)<', text).group(1))  # type: ignore[union-attr]
    assert 'id="packet-release"' in text  # release from the preview

    pdf = await spec.get(f"/requests/{rid}/packet.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert _pages(pdf.content) == total
    assert {"packet.previewed", "packet.pdf_viewed"} <= set(_actions(web_worker, rid))
    assert "packet previewed" not in (await spec.get(f"/requests/{rid}")).text  # reads: audit only

    released = await spec.post(
        f"/requests/{rid}/actions/complete", data={"csrf_token": await csrf(spec)}
    )
    assert released.status_code == 303
    await _wait_status(web_worker, rid, "completed")
    with session_scope(web_worker.database_url) as session:
        [(link, _, _)] = links.links_of(session, rid)
    sent = Path(link.package_path).read_bytes()
    assert sent == pdf.content  # byte for byte what was previewed


async def test_a_preview_says_why_nothing_would_leave(
    spec: httpx.AsyncClient, web_worker: Harness
) -> None:
    data = factories.own_records(received_at=received_now())
    data["patient"] = {**data["patient"], "first_name": "Unfiled"}  # no records at the source
    rid = await _start(web_worker, data)
    page = (await spec.get(f"/requests/{rid}/packet")).text
    assert 'id="packet-held"' in page and 'id="packet-release"' not in page
    assert "Verify identity and authority before release." in page  # and why not yet
    assert (await spec.get(f"/requests/{rid}/packet.pdf")).status_code == 404


async def test_no_preview_for_a_case_kind(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    rid = await _start(web_worker, factories.billing(received_at=received_now()))
    c = await sign_in(web_app, staff.names["specialist"])
    assert (await c.get(f"/requests/{rid}/packet")).status_code == 404
    await c.aclose()
