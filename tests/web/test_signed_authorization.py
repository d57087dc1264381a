"""Staff see the authorization a requester signed on the portal: the request page links the
sealed PDF, served only to staff whose team and site cover the request, each opening audited,
and the PDF they get still validates (pyHanko)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from io import BytesIO

import httpx
from fastapi import FastAPI
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select
from sqlmodel import col

from config.settings import Settings
from portal import signing
from services import intake
from store.db import session_scope
from store.models import RequestEvent
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import sign_in


def _sealed() -> bytes:
    evidence = signing.Evidence(
        "Avery Testpatient", None, datetime.now(UTC), "avery@example.org", "192.0.2.1"
    )
    words = signing.SignaturePageText(
        "Electronic signature", "Name", "Drawn", "Not drawn", "At", "Email", "Address", "Agreed"
    )
    pdf = signing.authorization_pdf(
        "Authorization",
        [signing.Section("The patient", [("Name", "Avery")])],
        evidence,
        words,
        rtl=False,
    )
    return signing.seal(pdf, signing.sealing_key(Settings(env="test")))


async def test_the_signed_pdf_is_on_the_request_page_for_staff_who_may_open_it(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    pdf = await asyncio.to_thread(_sealed)  # pyHanko runs its own event loop
    received = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    result = await intake.submit(
        factories.third_party(received_at=received),  # a Minnesota request
        database_url=web_worker.database_url,
        client=web_worker.client,
        task_queue=web_worker.task_queue,
        source="portal",
        signed_document=intake.SignedDocument("authorization", pdf, datetime.now(UTC)),
    )
    assert result.accepted, result.errors
    rid = result.request_id or ""
    spec = await sign_in(web_app, staff.names["specialist"])
    try:
        page = ""
        for _ in range(100):  # the workflow projects its row first
            answer = await spec.get(f"/requests/{rid}")
            if answer.status_code == 200:
                page = answer.text
                break
            await asyncio.sleep(0.05)
        link = page[page.index('class="signed-document"') :]
        href = link[link.index('href="') + 6 : link.index('.pdf"') + 4]
        served = await spec.get(href)
    finally:
        await spec.aclose()
    assert served.status_code == 200 and served.content == pdf
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["cache-control"] == "no-store"
    key = signing.sealing_key(Settings(env="test"))
    (embedded,) = PdfFileReader(BytesIO(served.content)).embedded_signatures
    status = await async_validate_pdf_signature(embedded, ValidationContext(trust_roots=[key.cert]))
    assert status.intact and status.valid
    with session_scope(web_worker.database_url) as session:
        opened = (
            session.execute(
                select(RequestEvent).where(
                    col(RequestEvent.request_id) == rid,
                    col(RequestEvent.action) == "signed_authorization.viewed",
                )
            )
            .scalars()
            .all()
        )
        assert len(opened) == 1 and opened[0].actor == staff.ids["specialist"]
    # another site's specialist may not open it
    other: httpx.AsyncClient = await sign_in(web_app, staff.names["specialist_az"])
    try:
        assert (await other.get(href)).status_code == 403
    finally:
        await other.aclose()
