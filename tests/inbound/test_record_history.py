"""Records the inbound-document workflows' histories (runs only with ROI_RECORD_HISTORIES=1):
the mailbox poll finding a document stored while Temporal was unreachable, and that document's
reading. tests/test_replay.py replays them, so a change to either workflow that breaks running
readings fails there."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from services import inbound
from store import documents
from store.db import session_scope
from tests.harness import Harness
from tests.inbound.test_webhook_and_list import _until
from tests.test_replay import RECORDING, _save
from workflows.inbound_document import InboundPollWorkflow, reading_workflow_id


@pytest.mark.skipif(not RECORDING, reason="set ROI_RECORD_HISTORIES=1 to record histories")
async def test_record_inbound_histories(web_worker: Harness) -> None:
    db = web_worker.database_url
    stored = await inbound.receive(
        database_url=db,
        client=None,  # Temporal unreachable: the poll starts the reading
        task_queue=web_worker.task_queue,
        channel="fax",
        site="florida",
        content=b"not a scan",
        content_type="application/octet-stream",
    )
    with session_scope(db) as session:
        session.execute(
            update(documents.InboundDocument)
            .where(col(documents.InboundDocument.id) == stored.document_id)
            .values(stored_at=datetime.now(UTC) - timedelta(minutes=10))
        )
    poll = await web_worker.client.start_workflow(
        InboundPollWorkflow.run,
        id=f"replay-poll-{uuid.uuid4().hex[:8]}",
        task_queue=web_worker.task_queue,
    )
    assert await poll.result() >= 1
    await _until(db, stored.document_id, {documents.UNREADABLE, documents.READ}, 60)
    reading = web_worker.client.get_workflow_handle(reading_workflow_id(stored.document_id))
    assert await reading.result() == documents.UNREADABLE
    await _save(poll, "inbound_poll_starts_reading")
    await _save(reading, "inbound_document_unreadable")
