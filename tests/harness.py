"""Run requests through the real intake service, worker, activities and database in tests.

The worker runs the activities production runs (worker.make_activities): the real channels
(build_channels) over a folder record source holding the test patients' synthetic records
(tests/records.py), emails written to the outbox (no SMTP host), the fake FedEx on loopback,
and batching off, so mail, CD and FedEx leave when released as a test expects.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from domain import actions
from domain.kinds.case import CaseState
from domain.state import RequestState
from domain.types import RequestKind, Status
from fakes.carrier import FakeCarrier, serve
from services import intake
from store.db import session_scope
from store.models import Disclosure, Notification, OutboundItem, RecordRequest, RequestEvent
from tests.records import give_records, patient_of, write_test_patients
from worker import build_worker, make_activities
from workflows.case_base import CaseWorkflow
from workflows.cases import CASE_WORKFLOWS
from workflows.record_request import RecordRequestWorkflow

T = TypeVar("T")

#: How long one call to the test server may take to skip time: it skips only while no workflow
#: task is in flight, so on a loaded machine a skip waits for every open workflow's tasks
#: (WorkflowEnvironment.sleep uses the client's default of 30 s, which a busy CI run exceeded).
SKIP_RPC_TIMEOUT = timedelta(minutes=3)


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Let simulated time pass on the time-skipping server, in steps of at most 30 days."""
    while duration > timedelta(0):
        step = min(duration, timedelta(days=30))
        request = SleepRequest()
        request.duration.FromTimedelta(step)
        await env.client.test_service.unlock_time_skipping_with_sleep(
            request, timeout=SKIP_RPC_TIMEOUT
        )
        duration -= step


def channel_settings(outbox: Path, records: Path, carrier_url: str, **overrides: Any) -> Settings:
    """Production's channel settings pointed at test stand-ins: the outbox for emails (no SMTP
    host), a records folder, the fake carrier; no batch (mail, CD and FedEx go when released)."""
    values: dict[str, Any] = {
        "data_dir": records.parent,
        "outbox_dir": outbox,
        "outbox_latency_ms": 0,
        "record_source": "folder",
        "records_dir": records,
        "smtp_host": None,
        "fedex_base_url": carrier_url,
        "fedex_client_id": "demo-client",  # the fake carrier's own credentials
        "fedex_client_secret": "demo-secret",
        "batch_enabled": False,
        "quality_check": "",
    }
    return Settings(**{**values, **overrides})


@contextmanager
def fake_carrier() -> Iterator[tuple[FakeCarrier, str]]:
    """The fake FedEx (fakes/carrier.py) on a free loopback port: (its state, its URL)."""
    server, carrier = serve(0)
    try:
        yield carrier, server.url
    finally:
        server.stop()


@dataclass
class Harness:
    client: Client
    task_queue: str
    database_url: str
    outbox: Path
    env: WorkflowEnvironment | None = None
    started: list[str] = field(default_factory=list)
    records: Path | None = None  # the folder record source the worker reads
    carrier: FakeCarrier | None = None  # the fake FedEx the worker ships with

    def give_records(self, request: dict[str, Any]) -> None:
        """File synthetic records for this request's patient in the record source."""
        assert self.records is not None, "this harness has no record folder"
        give_records(self.records, patient_of(request))

    async def submit(self, data: dict[str, Any], key: str | None = None) -> intake.IntakeResult:
        """Submit through the same intake service the CLI and API use."""
        result = await intake.submit(
            data,
            database_url=self.database_url,
            client=self.client,
            task_queue=self.task_queue,
            source="test",
            idempotency_key=key,
            now=await self.env.get_current_time() if self.env else None,
        )
        if result.workflow_id:
            self.started.append(result.workflow_id)
        return result

    async def terminate_open(self) -> None:
        """Open workflows left by a test would stop the shared server from skipping time."""
        for workflow_id in self.started:
            handle = self.client.get_workflow_handle(workflow_id)
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test finished")

    async def start(self, data: dict[str, Any]) -> WorkflowHandle:
        result = await self.submit(data)
        assert result.accepted, result.errors
        return self.client.get_workflow_handle_for(
            RecordRequestWorkflow.run, result.workflow_id or ""
        )

    async def skip(self, duration: timedelta) -> None:
        """Let simulated time pass (skip_time)."""
        assert self.env is not None
        await skip_time(self.env, duration)

    async def start_case(self, data: dict[str, Any]) -> WorkflowHandle[Any, CaseState]:
        """Submit a case; its handle is typed (its result is the case's CaseState)."""
        result = await self.submit(data)
        assert result.accepted, result.errors
        workflow = CASE_WORKFLOWS[RequestKind(data["kind"])]
        return self.client.get_workflow_handle_for(workflow.run, result.workflow_id or "")

    async def case_state(self, handle: WorkflowHandle) -> CaseState:
        return await handle.query(CaseWorkflow.status)

    async def wait_case(
        self, handle: WorkflowHandle, *wanted: Status, timeout: float = 15
    ) -> CaseState:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = await self.case_state(handle)
            if state.status in wanted:
                return state
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"status {state.status} never became {wanted}")
            await asyncio.sleep(0.05)

    async def state(self, handle: WorkflowHandle) -> RequestState:
        return await handle.query(RecordRequestWorkflow.status)

    async def wait_status(
        self, handle: WorkflowHandle, *wanted: Status, timeout: float = 15
    ) -> RequestState:
        """Poll the workflow (in real time, so no simulated time passes) until a stage."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = await self.state(handle)
            if state.status in wanted:
                return state
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"status {state.status} never became {wanted}")
            await asyncio.sleep(0.05)

    async def pay_quote(
        self, handle: WorkflowHandle, *, actor: str = "spec.cashier", reference: str = "CHK-T"
    ) -> RequestState:
        """Staff record the quoted fee as paid, as a third party pays before any release
        (164.524(c)(4), the site's schedule); returns the state once ready to release."""
        state = await self.wait_status(handle, Status.AWAITING_PAYMENT)
        await handle.execute_update(
            RecordRequestWorkflow.record_payment,
            actions.RecordPayment(
                actor=actor, amount_cents=state.fee_due_cents, reference=reference
            ),
        )
        return await self.wait_status(handle, Status.READY_TO_RELEASE)

    async def pay_if_quoted(self, handle: WorkflowHandle) -> int:
        """Pay the quote when the request carries one (a third party's copies; treatment and
        the patient's own request stay free); returns what was paid."""
        due = (await self.state(handle)).fee_due_cents
        if due:
            await self.pay_quote(handle)
        return due

    async def refused(
        self, handle: WorkflowHandle, update: Any, action: Any
    ) -> list[dict[str, Any]]:
        """Send an update expected to be refused; returns its field issues."""
        try:
            await handle.execute_update(update, action)
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            assert getattr(cause, "type", None) == "ActionRefused", cause
            return [dict(d) for d in cause.details]  # type: ignore[union-attr]
        raise AssertionError("the update was accepted")

    def row(self, request_id: str) -> RecordRequest:
        with session_scope(self.database_url) as session:
            row = session.get(RecordRequest, request_id)
            assert row is not None
            session.expunge(row)
            return row

    def events(self, request_id: str) -> list[RequestEvent]:
        with session_scope(self.database_url) as session:
            rows = (
                session.execute(
                    select(RequestEvent)
                    .where(RequestEvent.request_id == request_id)
                    .order_by(RequestEvent.id)
                )
                .scalars()
                .all()
            )
            session.expunge_all()
            return list(rows)

    async def until(self, probe: Callable[[], T | None], what: str, timeout: float = 15) -> T:
        """Poll `probe` (in real time) until it returns something: what a workflow writes after
        a status change (an audit event, a notification) lands a moment after the status."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = probe()
            if found is not None:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"never happened: {what}")
            await asyncio.sleep(0.05)

    async def wait_event(self, request_id: str, action: str) -> RequestEvent:
        """The first `action` event of a request, once the workflow has recorded it (a release is
        READY_TO_RELEASE both before and after a hold, so the status alone cannot tell)."""
        return await self.until(
            lambda: next((e for e in self.events(request_id) if e.action == action), None),
            f"{action} event",
        )

    def event_times(self, request_id: str, action: str) -> list[datetime]:
        return [e.at for e in self.events(request_id) if e.action == action]

    def disclosures(self, request_id: str) -> list[Disclosure]:
        with session_scope(self.database_url) as session:
            rows = (
                session.execute(select(Disclosure).where(Disclosure.request_id == request_id))
                .scalars()
                .all()
            )
            session.expunge_all()
            return list(rows)

    def notifications(self, request_id: str) -> list[Notification]:
        with session_scope(self.database_url) as session:
            rows = (
                session.execute(select(Notification).where(Notification.request_id == request_id))
                .scalars()
                .all()
            )
            session.expunge_all()
            return list(rows)

    def outbound(self, request_id: str) -> list[OutboundItem]:
        with session_scope(self.database_url) as session:
            rows = (
                session.execute(
                    select(OutboundItem)
                    .where(OutboundItem.request_id == request_id)
                    .order_by(OutboundItem.id)
                )
                .scalars()
                .all()
            )
            session.expunge_all()
            return list(rows)


@asynccontextmanager
async def running_worker(
    client: Client,
    database_url: str,
    outbox: Path,
    env: WorkflowEnvironment | None = None,
    *,
    sandboxed: bool = True,
) -> AsyncIterator[Harness]:
    """A worker on a fresh task queue with production's activities and channels (see the
    module's docstring); its records folder sits beside the outbox. In the workflow sandbox
    unless told otherwise, as production may run: ROI_WORKFLOW_SANDBOX=false."""
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    records = write_test_patients(outbox.parent / f"{outbox.name}-records")
    with fake_carrier() as (carrier, carrier_url), ThreadPoolExecutor(max_workers=8) as executor:
        activities = make_activities(channel_settings(outbox, records, carrier_url), database_url)
        async with build_worker(client, task_queue, activities, executor, sandboxed=sandboxed):
            harness = Harness(
                client=client,
                task_queue=task_queue,
                database_url=database_url,
                outbox=outbox,
                env=env,
                records=records,
                carrier=carrier,
            )
            try:
                yield harness
            finally:
                await harness.terminate_open()
