"""Intake: store every submission first, validate it, then start its workflow exactly once.

Order matters: the raw submission and its receipt time are committed to PostgreSQL before
validation or Temporal can fail, so nothing received is ever lost. A rejected submission is
kept with its field errors for staff to see. The same idempotency key always yields the same
request (and the same workflow id, so Temporal refuses a second start).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import structlog
from pydantic import BaseModel, ValidationError
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from ulid import ULID

from domain.effects import StartRequest
from domain.errors import FieldIssue, issue
from domain.ids import workflow_id_for
from domain.kinds.case import CaseStart
from domain.kinds.intake import CASE_KINDS, case_start, parse_case
from domain.kinds.outside_records import (
    REDIRECT_MESSAGE,
    OutsideRecordsNotice,
    OutsideRecordsReply,
    reply_channel,
    reply_workflow_id,
)
from domain.patients import patient_key
from domain.request import RecordRequestSubmission, issues_from_validation_error, parse_submission
from domain.text import parse_json, storable_copy, unstorable_fields
from domain.types import RequestKind
from store import cases, repository
from store import intake as intake_rows
from store import portal as portal_rows
from store.db import session_scope
from store.models import IntakeSubmission
from workflows import search
from workflows.cases import CASE_WORKFLOWS
from workflows.outside_records import OutsideRecordsReplyWorkflow
from workflows.record_request import RecordRequestWorkflow

log = structlog.get_logger(__name__)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_tracking_number() -> str:
    """Short, unguessable, easy to read aloud on the phone: ROI-XXXXX-XXXXX."""
    chars = "".join(secrets.choice(_CROCKFORD) for _ in range(10))
    return f"ROI-{chars[:5]}-{chars[5:]}"


@dataclass(frozen=True)
class SignedDocument:
    """A document the requester signed electronically (a sealed PDF), kept with the
    submission."""

    kind: str
    content: bytes
    signed_at: datetime


@dataclass(frozen=True)
class UploadedDocument:
    """A document the requester uploaded, already sniffed and re-encoded (portal/uploads.py):
    kept with the submission, encrypted at rest with the ROI_PAYLOAD_KEYS key."""

    kind: str
    media_type: str
    content: bytes


@dataclass
class IntakeResult:
    """What the submitter gets back."""

    submission_id: str
    accepted: bool
    request_id: str | None = None
    tracking_number: str | None = None
    workflow_id: str | None = None
    errors: list[FieldIssue] = field(default_factory=list)
    duplicate: bool = False
    redirected: bool = False  # outside records: not an ROI request
    message: str | None = None


def _decode(raw: bytes | str | dict[str, Any]) -> tuple[Any, list[FieldIssue]]:
    if isinstance(raw, dict):
        return raw, []
    try:
        return parse_json(raw), []
    except (ValueError, UnicodeDecodeError):
        return None, [issue("body", "malformed_json", "The submission is not valid JSON.")]


def _kind_of(data: Any) -> Any:
    return data.get("kind") if isinstance(data, dict) else None


def _received_at(data: Any, now: datetime) -> datetime:
    """The claimed receipt time when it parses, else the moment it reached us."""
    if isinstance(data, dict) and isinstance(data.get("received_at"), str):
        try:
            parsed = datetime.fromisoformat(data["received_at"])
            if parsed.tzinfo is not None and parsed <= now:
                return parsed
        except ValueError:
            pass
    return now


async def start_workflow(client: Client | None, task_queue: str, start: StartRequest) -> str:
    """Start the request's workflow; a second start of the same id is a no-op.

    Without a client (Temporal unreachable) the accepted submission waits in PostgreSQL and
    `reconcile` starts it later; the workflow id is the same either way.
    """
    sub = start.submission
    if client is None:
        log.warning("intake.start_deferred", request_id=start.request_id)
        return workflow_id_for(start.request_id)
    # started before and already closed: it is the same request
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            RecordRequestWorkflow.run,
            start,
            id=workflow_id_for(start.request_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(search.SITE, sub.site.value),
                    SearchAttributePair(search.KIND, sub.kind.value),
                    SearchAttributePair(search.STATUS, "received"),
                ]
            ),
        )
    return workflow_id_for(start.request_id)


async def start_case_workflow(client: Client | None, task_queue: str, start: CaseStart) -> str:
    """Start the workflow of a non-copy kind; a second start of the same id is a no-op."""
    workflow_id = workflow_id_for(start.request_id)
    if client is None:
        log.warning("intake.start_deferred", request_id=start.request_id)
        return workflow_id
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            CASE_WORKFLOWS[start.kind].run,
            start,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(search.SITE, start.site.value),
                    SearchAttributePair(search.KIND, start.kind.value),
                    SearchAttributePair(search.STATUS, "received"),
                ]
            ),
        )
    return workflow_id


async def submit(
    raw: bytes | str | dict[str, Any],
    *,
    database_url: str,
    client: Client | None,
    task_queue: str,
    source: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    signed_document: SignedDocument | None = None,
    uploads: Sequence[UploadedDocument] = (),
    payload_keys: str | None = None,
) -> IntakeResult:
    """Store, validate and start a request (with the sealed PDF the requester signed and the
    documents they uploaded, when they came with it: stored in the same transaction as the
    submission, the uploads encrypted with `payload_keys`, ROI_PAYLOAD_KEYS)."""
    now = now or datetime.now(UTC)
    data, errors = _decode(raw)
    if data is not None and not isinstance(data, dict):
        errors = [issue("body", "not_an_object", "The submission must be a JSON object.")]
    stamped = isinstance(data, dict) and "received_at" not in data
    if isinstance(data, dict) and "received_at" not in data:
        data = {**data, "received_at": now.isoformat()}
    if data is not None and (unstorable := unstorable_fields(data)):
        # kept for staff with the characters PostgreSQL refuses replaced; refused per field
        errors, data = [*errors, *unstorable], storable_copy(data)

    existing = None
    if idempotency_key:
        with session_scope(database_url) as session:
            existing = repository.find_submission_by_key(session, idempotency_key)
    if existing is not None and _same_body(existing.payload, data, stamped=stamped):
        return await _replay(existing, database_url, client, task_queue)
    if existing is not None:
        # The key already names another request (another kind, or the same kind with another
        # body): answering with that one would silently drop this one and its clock would never
        # start. Keep it (without the key) for staff review and refuse it, naming the key.
        idempotency_key = None
        other_kind = _kind_of(existing.payload) != _kind_of(data)
        errors = [
            *errors,
            issue(
                "idempotency_key",
                "key_reused",
                (
                    "This key was already used for a different kind of request; "
                    if other_kind
                    else "This key was already used for a different submission; "
                )
                + "send this one with a new key.",
            ),
        ]
    with session_scope(database_url) as session:
        submission_id = str(ULID())
        channel = data.get("channel") if isinstance(data, dict) else None
        intake_rows.store_submission(
            session,
            submission_id=submission_id,
            received_at=_received_at(data, now),
            channel=str(channel)[:16] if channel else "unknown",
            source=source,
            idempotency_key=idempotency_key,
            payload=data
            if data is not None
            else {
                "unparsed": storable_copy(
                    raw if isinstance(raw, str) else cast(bytes, raw).decode("utf-8", "replace")
                )
            },
        )
        if signed_document is not None:
            session.flush()  # the submission's row first: the document points at it
            portal_rows.store_signed_document(
                session,
                submission_id=submission_id,
                kind=signed_document.kind,
                content=signed_document.content,
                signed_at=signed_document.signed_at,
            )
        if uploads:
            session.flush()
            for document in uploads:
                portal_rows.store_upload(
                    session,
                    submission_id=submission_id,
                    kind=document.kind,
                    media_type=document.media_type,
                    content=document.content,
                    keys=payload_keys,
                )
    log.info("intake.stored", submission_id=submission_id, source=source)

    return await _validate_and_start(
        submission_id,
        data,
        errors,
        database_url=database_url,
        client=client,
        task_queue=task_queue,
        now=now,
    )


def known_key(database_url: str, idempotency_key: str) -> bool:
    """Whether a submission was already stored under this key (a retry or a double click: the
    sender gets the first answer again, without doing again what preceded it)."""
    with session_scope(database_url) as session:
        return repository.find_submission_by_key(session, idempotency_key) is not None


def _same_body(stored: Any, data: Any, *, stamped: bool) -> bool:
    """A retry of the stored submission: the same body (the receipt time we stamped on a body
    that had none is ours, not the sender's, and is left out of the comparison)."""
    if not (isinstance(stored, dict) and isinstance(data, dict)):
        return bool(stored == data)
    if stamped:
        stored = {k: v for k, v in stored.items() if k != "received_at"}
        data = {k: v for k, v in data.items() if k != "received_at"}
    return bool(stored == data)


class CorrectionRefused(Exception):
    """The submission cannot be corrected (not kept for review, or already corrected)."""


async def resubmit(
    submission_id: str,
    corrected: dict[str, Any],
    *,
    database_url: str,
    client: Client | None,
    task_queue: str,
    source: str = "staff",
    now: datetime | None = None,
) -> IntakeResult:
    """Staff corrected a submission kept for review: validate it with its original receipt
    time (the legal clock runs from then, not from the correction). Still wrong: nothing new
    is stored (the original stays kept) and the errors come back. Right: it is stored, started
    and the original is marked corrected, pointing at the new request."""
    now = now or datetime.now(UTC)
    with session_scope(database_url) as session:
        original = intake_rows.submission(session, submission_id)
        if original is None or original.outcome != "rejected":
            raise CorrectionRefused("This submission is not waiting for review.")
        received_at = original.received_at
    data = {**corrected, "received_at": received_at.isoformat()}
    errors = unstorable_fields(data)
    if not errors:
        _, parsed, errors = _parse(data, now)
        if parsed is None and not errors:
            errors = [issue("kind", "missing", "Choose the kind of request.")]
    if errors:
        return IntakeResult(submission_id=submission_id, accepted=False, errors=errors)
    new_id = str(ULID())
    with session_scope(database_url) as session:
        # two people correcting it at once start one request
        if not intake_rows.claim_for_correction(session, submission_id):
            raise CorrectionRefused("This submission was corrected by someone else just now.")
        intake_rows.store_submission(
            session,
            submission_id=new_id,
            received_at=received_at,
            channel=str(data.get("channel") or "unknown")[:16],
            source=source,
            idempotency_key=None,
            payload=data,
        )
    log.info("intake.correction_stored", submission_id=new_id, corrects=submission_id)
    result = await _validate_and_start(
        new_id, data, [], database_url=database_url, client=client, task_queue=task_queue, now=now
    )
    with session_scope(database_url) as session:
        if result.accepted or result.redirected:
            repository.mark_submission(
                session,
                submission_id,
                outcome="corrected",
                request_id=result.request_id,
                tracking_number=result.tracking_number,
            )
        else:  # pragma: no cover - validated above; kept for review again
            repository.mark_submission(session, submission_id, outcome="rejected")
    return result


def issues_of(data: Any, now: datetime) -> list[FieldIssue]:
    """What validation would say of this submission, without storing anything (a form the
    sender has not confirmed yet: every problem is named at once)."""
    return _parse(data, now)[2]


def _parse(
    data: Any, now: datetime
) -> tuple[RequestKind | None, BaseModel | None, list[FieldIssue]]:
    """Dispatch on `kind` to the right model and rules."""
    raw_kind: Any = data.get("kind") if isinstance(data, dict) else None
    try:
        kind = RequestKind(raw_kind)
    except ValueError:
        kind = None
    if kind in CASE_KINDS:
        sub, errors = parse_case(kind, data, now)
        return kind, sub, errors
    if kind == RequestKind.OUTSIDE_RECORDS:
        try:
            notice = OutsideRecordsNotice.model_validate(data)
        except ValidationError as error:
            return kind, None, issues_from_validation_error(error)
        return kind, notice, []
    sub, errors = parse_submission(data, now)
    return kind, sub, errors


async def _validate_and_start(
    submission_id: str,
    data: Any,
    errors: list[FieldIssue],
    *,
    database_url: str,
    client: Client | None,
    task_queue: str,
    now: datetime,
) -> IntakeResult:
    """Validate a stored submission; accept and start it, or keep it with its errors."""
    kind, sub = None, None
    if not errors:
        kind, sub, errors = _parse(data, now)
    if errors or sub is None:
        with session_scope(database_url) as session:
            repository.mark_submission(
                session, submission_id, outcome="rejected", errors=[e.model_dump() for e in errors]
            )
        log.info("intake.rejected", submission_id=submission_id, codes=[e.code for e in errors])
        return IntakeResult(submission_id=submission_id, accepted=False, errors=errors)
    if isinstance(sub, OutsideRecordsNotice):
        return await _redirect_outside_records(submission_id, sub, database_url, client, task_queue)

    request_id = str(ULID()).lower()
    tracking = new_tracking_number()
    with session_scope(database_url) as session:
        repository.mark_submission(
            session,
            submission_id,
            outcome="accepted",
            request_id=request_id,
            tracking_number=tracking,
        )
    workflow_id = await _start(kind, sub, request_id, tracking, client, task_queue, database_url)
    log.info(
        "intake.accepted",
        submission_id=submission_id,
        request_id=request_id,
        workflow_id=workflow_id,
        kind=kind.value if kind else None,
    )
    return IntakeResult(
        submission_id=submission_id,
        accepted=True,
        request_id=request_id,
        tracking_number=tracking,
        workflow_id=workflow_id,
    )


async def _start(
    kind: RequestKind | None,
    sub: BaseModel,
    request_id: str,
    tracking: str,
    client: Client | None,
    task_queue: str,
    database_url: str,
) -> str:
    """Start the workflow that owns this kind."""
    if kind in CASE_KINDS:
        start = case_start(kind, sub, request_id, tracking)
        return await start_case_workflow(client, task_queue, start)
    assert isinstance(sub, RecordRequestSubmission)
    key = patient_key(sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth)
    with session_scope(database_url) as session:
        died = cases.deceased_on(session, key)
    start_request = StartRequest(
        request_id=request_id, tracking_number=tracking, submission=sub, patient_deceased_on=died
    )
    return await start_workflow(client, task_queue, start_request)


async def start_outside_reply(
    client: Client | None, task_queue: str, submission_id: str, notice: OutsideRecordsNotice
) -> bool:
    """Start the reply to the sender (OutsideRecordsReplyWorkflow, one per submission: a second
    start is a no-op). False when it waits for `reconcile`: Temporal unreachable, or nothing to
    send it to (no email, no address)."""
    if reply_channel(notice) is None:
        return False
    if client is None:
        log.warning("intake.reply_deferred", submission_id=submission_id)
        return False
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            OutsideRecordsReplyWorkflow.run,
            OutsideRecordsReply(submission_id=submission_id, notice=notice),
            id=reply_workflow_id(submission_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    return True


async def _redirect_outside_records(
    submission_id: str,
    notice: OutsideRecordsNotice,
    database_url: str,
    client: Client | None,
    task_queue: str,
) -> IntakeResult:
    """Not an ROI request: counted, answered with where to send them, never queued. Stored
    first; then the same answer goes to the sender by their channel (a workflow that retries
    until it is sent, once)."""
    with session_scope(database_url) as session:
        repository.mark_submission(session, submission_id, outcome="redirected")
        intake_rows.count_redirect(
            session,
            submission_id=submission_id,
            site=notice.site.value,
            channel=notice.channel.value,
            received_at=notice.received_at,
        )
    log.info("intake.redirected_outside_records", submission_id=submission_id)
    await start_outside_reply(client, task_queue, submission_id, notice)
    return IntakeResult(
        submission_id=submission_id, accepted=False, redirected=True, message=REDIRECT_MESSAGE
    )


async def _replay(
    existing: IntakeSubmission, database_url: str, client: Client | None, task_queue: str
) -> IntakeResult:
    """A retried submission: the same answer as the first time (and its workflow, started)."""
    if existing.outcome == "received":  # stored, then interrupted before validation
        return await _validate_and_start(
            existing.id,
            existing.payload,
            [],
            database_url=database_url,
            client=client,
            task_queue=task_queue,
            now=datetime.now(UTC),
        )
    if existing.outcome == "redirected":
        # the reply's workflow, started again (a no-op when it ran: sent once, never twice)
        notice = OutsideRecordsNotice.model_validate(existing.payload)
        await start_outside_reply(client, task_queue, existing.id, notice)
        return IntakeResult(
            submission_id=existing.id,
            accepted=False,
            redirected=True,
            message=REDIRECT_MESSAGE,
            duplicate=True,
        )
    if existing.outcome != "accepted" or not existing.request_id:
        errors = [FieldIssue(**e) for e in existing.errors or []]
        return IntakeResult(
            submission_id=existing.id, accepted=False, errors=errors, duplicate=True
        )
    tracking = existing.tracking_number or ""
    kind = RequestKind(existing.payload.get("kind"))
    model = CASE_KINDS[kind][0] if kind in CASE_KINDS else RecordRequestSubmission
    sub = model.model_validate(existing.payload)
    workflow_id = await _start(
        kind, sub, existing.request_id, tracking, client, task_queue, database_url
    )
    return IntakeResult(
        submission_id=existing.id,
        accepted=True,
        request_id=existing.request_id,
        tracking_number=tracking,
        workflow_id=workflow_id,
        duplicate=True,
    )


async def reconcile(
    database_url: str,
    client: Client,
    task_queue: str,
    *,
    stale_after: timedelta = timedelta(minutes=5),
) -> list[str]:
    """Finish intake of every submission that was stored but never started (crash recovery).

    Accepted submissions whose workflow has not projected a row are started again (a no-op if
    it runs); submissions left unvalidated for `stale_after` are validated now. Returns the ids
    of the workflows it started or found running.
    """
    cutoff = datetime.now(UTC) - stale_after
    with session_scope(database_url) as session:
        orphans = intake_rows.unfinished(session, cutoff)
    started = []
    for row in orphans:
        result = await _replay(row, database_url, client, task_queue)
        if result.workflow_id:
            started.append(result.workflow_id)
    if orphans:
        log.info("intake.reconciled", submissions=len(orphans), started=len(started))
    return started
