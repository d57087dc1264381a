"""A faxed form read by real Tesseract: the split screen shows the fields it pre-filled (with the
text each was read from and the 164.508 elements found), the specialist submits, and the
request's receipt time is the document's, not the submit's; the document stays attached and
is on the request's page. Every staff action is an audit row."""

from __future__ import annotations

import asyncio
import html
import time
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from store import documents
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest, RequestEvent
from tests.harness import Harness
from tests.inbound.conftest import needs_ocr, scan_of
from tests.inbound.test_webhook_and_list import _until
from tests.web.conftest import Staff
from tests.web.helpers import csrf, sign_in

pytestmark = needs_ocr


def _plain(text: str) -> str:
    """Text as a reader compares it: OCR's stray specks and case aside."""
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c == " ").split())


def _fields(page: str) -> dict[str, str]:
    """The split screen's inputs and their values (selects: the selected option)."""
    import re

    found = {
        m["name"]: html.unescape(m["value"])
        for m in re.finditer(
            r'<input id="f-[^"]+" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)"', page
        )
    }
    for select_match in re.finditer(
        r'<select id="f-[^"]+" name="(?P<name>[^"]+)">(?P<body>.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', select_match["body"])
        found[select_match["name"]] = chosen.group(1) if chosen else ""
    for area in re.finditer(
        r'<textarea id="f-[^"]+" name="(?P<name>[^"]+)"[^>]*>(?P<value>[^<]*)</textarea>', page
    ):
        found[area["name"]] = html.unescape(area["value"])
    for box in re.finditer(
        r'<input type="checkbox" id="f-[^"]+" name="(?P<name>[^"]+)" (?P<on>checked)?', page
    ):
        found[box["name"]] = "on" if box["on"] else ""
    return found


async def test_a_faxed_form_is_read_confirmed_and_submitted_with_its_receipt_time(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    db = web_worker.database_url
    spec = await sign_in(web_app, staff.names["specialist"])
    token = await csrf(spec)
    uploaded = await spec.post(
        "/intake/documents/upload",
        data={"csrf_token": token, "site": "minnesota", "channel": "fax"},
        files={"file": ("scan.tiff", scan_of("en", "tiff"), "image/tiff")},
    )
    assert uploaded.status_code == 303, uploaded.text[:300]
    document_id = uploaded.headers["location"].rsplit("/", 1)[1]
    with session_scope(db) as session:  # stored before it was read
        stored = documents.get(session, document_id)
        assert stored is not None and stored.site == "minnesota"
    row = await _until(db, document_id, {documents.READ, documents.UNREADABLE}, 400)
    assert row.status == documents.READ and row.page_count == 2

    page = (await spec.get(f"/intake/documents/{document_id}")).text
    values = _fields(page)
    assert values["kind"] == "third_party"
    assert values["patient.first_name"] == "Avery" and values["patient.last_name"] == "Testwell"
    assert values["patient.date_of_birth"] == "1984-03-14"
    assert values["patient.mrn"] == "12-345-678"
    assert _plain(values["requester.organization"]) == "northfield law group"
    assert values["delivery_method"] == "us_mail"
    assert values["records.date_from"] == "2024-01-02"
    assert _plain(values["authorization.purpose"]) == "legal claim"
    assert 'data-source="patient.date_of_birth"' in page and "03/14/1984" in page
    for element in ("recipient", "signature", "statement_redisclosure"):
        assert f'<li class="found" data-element="{element}">' in page, element
    assert page.count('<img src="/intake/documents/') == 2
    image = await spec.get(f"/intake/documents/{document_id}/pages/1.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    # the specialist corrects what OCR could not know and submits
    form = {k: v for k, v in values.items() if v}
    form.update({"csrf_token": await csrf(spec), "requester.phone": "507-555-0100"})
    await asyncio.sleep(1.1)  # the submit is later than the receipt: the clock must not move
    done = await spec.post(f"/intake/documents/{document_id}/submit", data=form)
    assert done.status_code == 303, [
        line for line in done.text.splitlines() if "field-error" in line or "data-field" in line
    ][:40]
    request_id = done.headers["location"].rsplit("/", 1)[1]

    with session_scope(db) as session:
        row = documents.get(session, document_id)
        assert row is not None and row.status == documents.SUBMITTED
        assert row.request_id == request_id and row.tracking_number
        submission = session.get(IntakeSubmission, row.submission_id)
        assert submission is not None and submission.received_at == row.received_at
        assert submission.payload["received_at"] == row.received_at.isoformat()
        assert submission.payload["channel"] == "fax"
        received = row.received_at
    deadline = time.monotonic() + 60
    while True:  # the workflow projects the request's row
        with session_scope(db) as session:
            projected = session.get(RecordRequest, request_id)
            if projected is not None:
                assert abs(projected.received_at - received) < timedelta(seconds=1)
                break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.5)

    request_page = (await spec.get(f"/requests/{request_id}")).text
    assert f'data-document="{document_id}"' in request_page
    original = await spec.get(f"/intake/documents/{document_id}/file")
    assert original.status_code == 200 and original.content == scan_of("en", "tiff")
    again = await spec.post(f"/intake/documents/{document_id}/submit", data=form)
    assert again.status_code == 303  # already submitted: no second request
    with session_scope(db) as session:
        actions = set(
            session.execute(
                select(col(RequestEvent.action)).where(
                    col(RequestEvent.request_id) == f"doc-{document_id}"
                )
            ).scalars()
        )
        on_request = set(
            session.execute(
                select(col(RequestEvent.action)).where(col(RequestEvent.request_id) == request_id)
            ).scalars()
        )
    assert {"document.uploaded", "document.opened", "document.submitted"} <= actions
    assert {"document.downloaded"} <= actions and "intake.from_document" in on_request
    await spec.aclose()
