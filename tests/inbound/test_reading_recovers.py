"""A document stored while Temporal was unreachable is not lost: the mailbox poll's workflow
finds it (stored, never read) and starts its reading workflow, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from services import inbound
from store import documents
from store.db import session_scope
from tests.harness import Harness
from tests.inbound.test_webhook_and_list import _until
from workflows.inbound_document import InboundPollWorkflow


async def test_the_poll_starts_the_reading_of_a_document_stored_without_temporal(
    web_worker: Harness,
) -> None:
    db = web_worker.database_url
    stored = await inbound.receive(
        database_url=db,
        client=None,  # Temporal unreachable: stored, reading deferred
        task_queue=web_worker.task_queue,
        channel="fax",
        site="florida",
        content=b"not a scan",
        content_type="application/octet-stream",
    )
    assert stored.created and not stored.reading_started
    with session_scope(db) as session:  # as if it had waited past the poll's patience
        session.execute(
            update(documents.InboundDocument)
            .where(col(documents.InboundDocument.id) == stored.document_id)
            .values(stored_at=datetime.now(UTC) - timedelta(minutes=10))
        )
    started = await web_worker.client.execute_workflow(
        InboundPollWorkflow.run,
        id=f"test-poll-{uuid.uuid4().hex[:8]}",
        task_queue=web_worker.task_queue,
    )
    assert started >= 1
    row = await _until(db, stored.document_id, {documents.UNREADABLE, documents.READ}, 60)
    assert row.status == documents.UNREADABLE  # read (it is not a scan), never lost
    again = await web_worker.client.execute_workflow(
        InboundPollWorkflow.run,
        id=f"test-poll-{uuid.uuid4().hex[:8]}",
        task_queue=web_worker.task_queue,
    )
    assert again == 0  # read already: nothing to start
