"""Writes and reads of the read model. Every write is idempotent on its business key."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import Session, col

from domain.effects import AuditEvent, DisclosureRecord, StaffNotification
from domain.ids import workflow_id_for
from domain.patients import patient_key
from domain.state import RequestState
from store.cases import register_authorization
from store.models import (
    Disclosure,
    IntakeSubmission,
    Notification,
    OutboundItem,
    RecordRequest,
    RequestEvent,
)
from store.tables import table_of


def request_row(state: RequestState, version: int) -> dict[str, Any]:
    """The read-model columns for a workflow state."""
    sub = state.submission
    clock = state.clock
    return {
        "id": state.request_id,
        "workflow_id": workflow_id_for(state.request_id),
        "tracking_number": state.tracking_number,
        "kind": sub.kind.value,
        "team": "roi",
        "patient_key": patient_key(
            sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
        ),
        "site": sub.site.value,
        "channel": sub.channel.value,
        "language": sub.language.value,
        "status": state.status.value,
        "delivery_method": sub.delivery_method.value,
        "received_at": clock.received_at,
        "target_due_at": clock.target_due_at,
        "due_at": clock.due_at,
        "original_due_date": clock.original_due_date,
        "due_date": clock.due_date,
        "extended": clock.extended,
        "at_risk": state.at_risk,
        "legal_risk": state.legal_risk,
        "breached": state.breached,
        "fee_cents": state.fee.total_cents,
        "paid_cents": state.paid_cents,
        "verified": state.verified,
        "patient_name": sub.patient.display_name(),
        "patient_dob": sub.patient.date_of_birth,
        "patient_mrn": sub.patient.mrn,
        "requester_name": sub.requester.display_name(),
        "recipient_name": sub.recipient_name(),
        "summary": {
            "deficiencies": [d.model_dump() for d in state.deficiencies],
            "fee_lines": [line.model_dump() for line in state.fee.lines],
            "extension_reason": clock.extension_reason,
            "outcome": state.outcome_note,
        },
        "closed_at": state.closed_at,
        "state_version": version,
    }


@cache
def _request_upsert(columns: tuple[str, ...]) -> Insert:
    """Upsert of a request row's projected `columns` that never overwrites a newer version
    (built once: it runs on every workflow transition, and a statement reused keeps
    SQLAlchemy's compiled form). Columns staff own (claims, assignment) are left alone."""
    stmt = insert(table_of(RecordRequest)).values(updated_at=func.now())
    keep = ("id", "workflow_id", "tracking_number")
    changing = {c: stmt.excluded[c] for c in columns if c not in keep}
    return stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={**changing, "updated_at": func.now()},
        where=table_of(RecordRequest).c.state_version < stmt.excluded.state_version,
    )


@cache
def _event_insert() -> ReturningInsert[tuple[int]]:
    """Append an audit event once per key; returns its id only when it was new."""
    table = table_of(RequestEvent)
    return insert(table).on_conflict_do_nothing(index_elements=["event_key"]).returning(table.c.id)


def project(session: Session, state: RequestState, version: int, event: AuditEvent) -> bool:
    """Upsert the request row (never overwriting a newer version) and append the event.

    Returns False when the event was already recorded (a retried activity).
    """
    row = request_row(state, version)
    connection = session.connection()
    connection.execute(_request_upsert(tuple(row)), row)
    result = connection.execute(
        _event_insert(),
        {
            "event_key": event.key,
            "request_id": state.request_id,
            "at": event.at,
            "actor": event.actor,
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "detail": event.detail,
        },
    )
    if state.submission.needs_authorization:
        register_authorization(session, state.request_id, row["patient_key"])
    return result.first() is not None


def append_event(
    session: Session,
    *,
    key: str,
    request_id: str,
    actor: str,
    action: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """An audit row outside a workflow transition (e.g. a staff member viewing a request)."""
    session.execute(
        insert(RequestEvent)
        .values(
            event_key=key, request_id=request_id, at=at, actor=actor, action=action, detail=detail
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
    )


def disclosure_description(record: DisclosureRecord) -> str:
    """What was released, with the format and an unprotected transmission when there was one
    (164.524(c)(2)): they are part of the disclosure's description in the log."""
    parts = [record.description]
    if record.electronic_format:
        parts.append(f"format: {record.electronic_format}")
    if record.transmission:
        parts.append(f"sent by email {record.transmission}")
    return "; ".join(parts)[:2000]


def record_disclosure(session: Session, record: DisclosureRecord, source: str = "engine") -> bool:
    """One row per release; False when this release was already recorded."""
    result = session.execute(
        insert(Disclosure)
        .values(
            disclosure_key=record.key,
            request_id=record.request_id,
            disclosed_at=record.disclosed_at,
            disclosed_by=record.disclosed_by,
            recipient_name=record.recipient_name,
            recipient_address=record.recipient_address,
            description=disclosure_description(record),
            purpose=record.purpose,
            method=record.method.value,
            category=record.category.value,
            authorization_ref=record.authorization_ref,
            patient_key=record.patient_key,
            source=source,
        )
        .on_conflict_do_nothing(index_elements=["disclosure_key"])
        .returning(col(Disclosure.id))
    )
    return result.first() is not None


def record_notification(session: Session, note: StaffNotification) -> bool:
    """A message to staff, once per key."""
    result = session.execute(
        insert(Notification)
        .values(
            notification_key=note.key,
            request_id=note.request_id,
            audience=note.audience,
            kind=note.kind,
            created_at=note.at,
        )
        .on_conflict_do_nothing(index_elements=["notification_key"])
        .returning(col(Notification.id))
    )
    return result.first() is not None


def outbound_item(session: Session, key: str) -> OutboundItem | None:
    """What was already sent under `key`, if anything."""
    return (
        session.execute(select(OutboundItem).where(col(OutboundItem.item_key) == key))
        .scalars()
        .first()
    )


def record_outbound(
    session: Session,
    *,
    key: str,
    request_id: str,
    channel: str,
    kind: str,
    path: str | None,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Remember that something was sent under `key`."""
    result = session.connection().execute(
        _outbound_insert(),
        {
            "item_key": key,
            "request_id": request_id,
            "channel": channel,
            "kind": kind,
            "path": path,
            "created_at": at,
            "detail": detail,
        },
    )
    return result.first() is not None


@cache
def _outbound_insert() -> ReturningInsert[tuple[int]]:
    """Record a sent item once per key (built once: every letter and delivery runs it)."""
    table = table_of(OutboundItem)
    return insert(table).on_conflict_do_nothing(index_elements=["item_key"]).returning(table.c.id)


def find_submission_by_key(session: Session, idempotency_key: str) -> IntakeSubmission | None:
    """The submission stored under an idempotency key."""
    query = select(IntakeSubmission).where(col(IntakeSubmission.idempotency_key) == idempotency_key)
    return session.execute(query).scalars().first()


def mark_submission(session: Session, submission_id: str, **values: Any) -> None:
    """Set the outcome (accepted/rejected), errors and request id of a stored submission."""
    session.execute(
        update(IntakeSubmission).where(col(IntakeSubmission.id) == submission_id).values(**values)
    )
