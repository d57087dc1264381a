"""Durability on the real stack: a Temporal dev server (SQLite file), PostgreSQL, worker processes.

The Temporal server is restarted while a request waits for staff, and the worker is SIGKILLed
in the middle of delivering the records; the request still completes with exactly one
disclosure, one email and one completion letter.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain import actions
from domain.ids import workflow_id_for
from domain.types import Status
from services import intake, staff
from services.temporal import connect
from store.db import session_scope
from store.models import Disclosure, OutboundItem, RecordRequest
from tests import factories
from tests.stack import Stack, wait_for
from workflows.record_request import RecordRequestWorkflow

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    s = Stack(tmp_path, database_url)
    s.start_server()
    yield s
    s.close()


async def test_request_survives_server_restart_and_worker_kill(stack: Stack) -> None:
    worker = stack.start_worker(latency_ms=4000)
    client = await connect(stack.address)
    result = await intake.submit(
        factories.own_records(),
        database_url=stack.database_url,
        client=client,
        task_queue=stack.task_queue,
        source="test",
        idempotency_key=f"it-{uuid.uuid4().hex}",
    )
    assert result.accepted and result.request_id
    rid = result.request_id

    async def stage() -> Status:
        return (await staff.current_state(client, rid)).status

    await wait_for(lambda: _is(stage, Status.AWAITING_VERIFICATION))

    # Temporal restarts while the request waits for a specialist: nothing is lost.
    stack.stop_server()
    stack.start_server()
    client = await connect(stack.address)
    await wait_for(lambda: _is(stage, Status.AWAITING_VERIFICATION))
    verify = actions.VerifyIdentity(actor="spec.it", method=actions.IdentityMethod.PHOTO_ID)
    await wait_for(lambda: staff.perform(client, rid, verify))
    await staff.perform(client, rid, actions.Complete(actor="spec.it"))

    # SIGKILL the worker while it is delivering (the channel takes 4 s), then start another.
    await asyncio.sleep(1.5)
    assert _count(stack, OutboundItem, rid, kind="records_email_link") == 0
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    stack.start_worker(latency_ms=0)

    handle = client.get_workflow_handle_for(RecordRequestWorkflow.run, workflow_id_for(rid))
    outcome = await asyncio.wait_for(handle.result(), timeout=90)
    assert outcome.status == "completed"
    assert _count(stack, Disclosure, rid) == 1
    assert _count(stack, OutboundItem, rid, kind="records_email_link") == 1
    assert _count(stack, OutboundItem, rid, kind="completion") == 1
    assert len(list((stack.outbox / "email").glob("*.eml"))) == 1
    with session_scope(stack.database_url) as session:
        assert session.get(RecordRequest, rid).status == "completed"  # type: ignore[union-attr]


async def _is(stage, wanted: Status) -> bool:
    return await stage() == wanted


def _count(stack: Stack, model, request_id: str, **where: str) -> int:
    query = select(func.count()).select_from(model).where(model.request_id == request_id)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    with session_scope(stack.database_url) as session:
        return session.execute(query).scalar_one()
