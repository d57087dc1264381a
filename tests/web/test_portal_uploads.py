"""Staff open the documents a requester uploaded on the portal: listed on the request page,
decrypted and served only to staff whose team and site cover the request, each opening
audited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from portal import uploads
from services import intake
from store.db import session_scope
from store.models import RequestEvent
from store.portal import PortalUpload
from tests import factories
from tests.harness import Harness
from tests.portal.upload_samples import jpeg_with_gps
from tests.web.conftest import Staff
from tests.web.helpers import sign_in


async def test_staff_of_the_site_open_the_upload_others_get_403(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    clean = uploads.clean(jpeg_with_gps(), 10_000_000)
    received = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    result = await intake.submit(
        factories.third_party(received_at=received),  # a Minnesota request
        database_url=web_worker.database_url,
        client=web_worker.client,
        task_queue=web_worker.task_queue,
        source="portal",
        uploads=[intake.UploadedDocument("legal_document", clean.media_type, clean.content)],
    )
    assert result.accepted, result.errors
    rid = result.request_id or ""
    with session_scope(web_worker.database_url) as session:
        (row,) = (
            session.execute(
                select(PortalUpload).where(col(PortalUpload.submission_id) == result.submission_id)
            )
            .scalars()
            .all()
        )
        assert clean.content not in row.content  # encrypted at rest
    spec = await sign_in(web_app, staff.names["specialist"])
    try:
        page = ""
        for _ in range(100):  # the workflow projects its row first
            answer = await spec.get(f"/requests/{rid}")
            if answer.status_code == 200:
                page = answer.text
                break
            await asyncio.sleep(0.05)
        assert "Documents the requester uploaded" in page
        href = f"/requests/{rid}/uploads/{row.id}"
        assert f'href="{href}"' in page
        served = await spec.get(href)
    finally:
        await spec.aclose()
    assert served.status_code == 200 and served.content == clean.content
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "no-store"
    with session_scope(web_worker.database_url) as session:
        opened = (
            session.execute(
                select(RequestEvent).where(
                    col(RequestEvent.request_id) == rid,
                    col(RequestEvent.action) == "uploaded_document.viewed",
                )
            )
            .scalars()
            .all()
        )
        assert len(opened) == 1 and opened[0].actor == staff.ids["specialist"]
    other: httpx.AsyncClient = await sign_in(web_app, staff.names["specialist_az"])
    try:
        assert (await other.get(href)).status_code == 403
    finally:
        await other.aclose()
