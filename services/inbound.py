"""Inbound documents: store first, read durably, submit through intake with the receipt time.

`receive` commits the document's bytes before anything else can fail (the fax webhook answers
only after that commit), then starts its reading workflow; when Temporal is unreachable the
document waits as "received" and the mailbox poll starts its reading later. `submit` turns the
fields the specialist confirmed into the intake submission every channel sends, validated by
the domain's own rules first (problems come back field by field and nothing is stored), then
`services.intake.submit` stores and starts it with the document's receipt time, so the HIPAA
clock runs from when the fax or email arrived, not from when it was keyed. The document stays
attached to the submission and the request.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.documents import submission_from_form
from domain.errors import FieldIssue, issue
from domain.request import parse_submission
from domain.types import RECORD_COPY_KINDS, RequestKind
from services import intake
from store import documents
from store.db import session_scope
from workflows.inbound_document import (
    InboundDocumentWorkflow,
    InboundPollWorkflow,
    reading_workflow_id,
)

log = structlog.get_logger(__name__)

#: The mailbox poll's schedule.
POLL_SCHEDULE_ID = "roi-inbound-mailbox"
#: Channels a document arrives by, as intake names them.
CHANNELS = ("fax", "email", "mail")


@dataclass(frozen=True)
class Received:
    """A stored document: its id, and whether this call stored it (False: a retry)."""

    document_id: str
    created: bool
    reading_started: bool = False


@dataclass
class Submitted:
    """What submitting a document's fields gave."""

    accepted: bool
    errors: list[FieldIssue] = field(default_factory=list)
    request_id: str | None = None
    tracking_number: str | None = None
    submission_id: str | None = None


async def start_reading(client: Client | None, task_queue: str, document_id: str) -> bool:
    """Start the document's reading workflow (a second start is a no-op); False when Temporal
    is unreachable (the mailbox poll starts it later)."""
    if client is None:
        log.warning("inbound.read_deferred", document_id=document_id)
        return False
    try:
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(
                InboundDocumentWorkflow.run,
                document_id,
                id=reading_workflow_id(document_id),
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
    except Exception as error:  # stored already: reading waits for the poll, nothing is lost
        log.warning("inbound.read_deferred", document_id=document_id, error=type(error).__name__)
        return False
    return True


async def receive(
    *,
    database_url: str,
    client: Client | None,
    task_queue: str,
    channel: str,
    site: str | None,
    content: bytes,
    content_type: str,
    filename: str | None = None,
    sender: str | None = None,
    source_key: str | None = None,
    uploaded_by: str | None = None,
    received_at: datetime | None = None,
) -> Received:
    """Store the document (committed on return), then start reading it."""
    moment = received_at or datetime.now(UTC)
    with session_scope(database_url) as session:
        document_id, created = documents.store(
            session,
            channel=channel,
            site=site,
            received_at=moment,
            content=content,
            content_type=content_type,
            filename=filename,
            sender=sender,
            source_key=source_key,
            uploaded_by=uploaded_by,
        )
    log.info("inbound.stored", document_id=document_id, channel=channel, duplicate=not created)
    started = await start_reading(client, task_queue, document_id)
    return Received(document_id=document_id, created=created, reading_started=started)


def check(data: dict[str, Any], now: datetime) -> list[FieldIssue]:
    """The domain's own intake rules on the confirmed fields (nothing stored)."""
    try:
        kind = RequestKind(str(data.get("kind")))
    except ValueError:
        return [issue("kind", "missing", "Choose the kind of request.")]
    if kind not in RECORD_COPY_KINDS:
        return [
            issue(
                "kind",
                "kind_not_supported_here",
                "This screen submits requests for copies of records.",
            )
        ]
    _, errors = parse_submission(data, now)
    return errors


async def submit(
    document_id: str,
    form: dict[str, str],
    *,
    database_url: str,
    client: Client | None,
    task_queue: str,
    site: str,
    channel: str,
    now: datetime | None = None,
) -> Submitted:
    """Submit the document's confirmed fields as a request received when the document was."""
    now = now or datetime.now(UTC)
    with session_scope(database_url) as session:
        row = documents.get(session, document_id)
        if row is None:
            raise LookupError("no such document")
        received_at = row.received_at
        if row.status == documents.SUBMITTED:
            return Submitted(
                accepted=row.request_id is not None,
                request_id=row.request_id,
                tracking_number=row.tracking_number,
                submission_id=row.submission_id,
            )
    data = submission_from_form(
        form, site=site, channel=channel, received_at=received_at.isoformat()
    )
    errors = check(data, now)
    if errors:
        return Submitted(accepted=False, errors=errors)
    result = await intake.submit(
        data,
        database_url=database_url,
        client=client,
        task_queue=task_queue,
        source="document",
        idempotency_key=f"document:{document_id}",
        now=now,
    )
    with session_scope(database_url) as session:
        documents.attach(
            session,
            document_id,
            submission_id=result.submission_id,
            request_id=result.request_id,
            tracking_number=result.tracking_number,
            now=now,
        )
    log.info(
        "inbound.submitted",
        document_id=document_id,
        submission_id=result.submission_id,
        request_id=result.request_id,
        accepted=result.accepted,
    )
    return Submitted(
        accepted=result.accepted,
        errors=result.errors,
        request_id=result.request_id,
        tracking_number=result.tracking_number,
        submission_id=result.submission_id,
    )


def poll_schedule(task_queue: str, every: timedelta) -> Schedule:
    """The mailbox poll every `every`; a poll still running when the next is due is skipped."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            InboundPollWorkflow.run, id="roi-inbound-poll", task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_poll_schedule(client: Client, task_queue: str, every: timedelta) -> str:
    """Create the mailbox poll's schedule, or bring it up to date (as the batch schedules)."""
    wanted = poll_schedule(task_queue, every)
    try:
        await client.create_schedule(POLL_SCHEDULE_ID, wanted)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=wanted)

        await client.get_schedule_handle(POLL_SCHEDULE_ID).update(replace)
    return POLL_SCHEDULE_ID
