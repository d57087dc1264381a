"""Reads of the `requests` table besides the queue and the board: one request's row, a request
found by its id or tracking number, the public status lookup's columns, tracking numbers of
ids, and the command line's listing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlmodel import Session, col

from domain.types import TERMINAL_STATUSES
from store.models import RecordRequest


def request_row(session: Session, request_id: str) -> RecordRequest | None:
    """The request's row."""
    return session.get(RecordRequest, request_id)


def id_for_reference(session: Session, reference: str) -> str | None:
    """The id of the request whose id (lower-case) or tracking number (upper-case) this is."""
    return session.execute(
        select(col(RecordRequest.id)).where(
            or_(
                col(RecordRequest.id) == reference.lower(),
                col(RecordRequest.tracking_number) == reference.upper(),
            )
        )
    ).scalar_one_or_none()


def existing_ids(session: Session, ids: Iterable[str]) -> set[str]:
    """Those of `ids` that are requests."""
    return set(
        session.execute(
            select(col(RecordRequest.id)).where(col(RecordRequest.id).in_(sorted(set(ids))))
        ).scalars()
    )


def tracking_numbers(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """The tracking number of each of `ids` that is a request."""
    return dict(
        session.execute(
            select(col(RecordRequest.id), col(RecordRequest.tracking_number)).where(
                col(RecordRequest.id).in_(list(ids))
            )
        ).all()
    )


@dataclass(frozen=True)
class StatusRow:
    """What the public status lookup reads of a request (the date of birth only to compare)."""

    id: str
    patient_dob: date
    status: str
    due_date: date
    closed_at: datetime | None
    team: str
    site: str


def status_row(session: Session, tracking_number: str) -> StatusRow | None:
    """The request with this tracking number, as the status lookup reads it."""
    row = session.execute(
        select(
            col(RecordRequest.id),
            col(RecordRequest.patient_dob),
            col(RecordRequest.status),
            col(RecordRequest.due_date),
            col(RecordRequest.closed_at),
            col(RecordRequest.team),
            col(RecordRequest.site),
        ).where(col(RecordRequest.tracking_number) == tracking_number)
    ).first()
    return None if row is None else StatusRow(*row)


def listing(
    session: Session,
    *,
    site: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    include_closed: bool = False,
    limit: int = 50,
) -> list[RecordRequest]:
    """Requests, most urgent legal due date first (closed ones only with `include_closed` or a
    `status`)."""
    query = select(RecordRequest).order_by(
        col(RecordRequest.due_at), col(RecordRequest.target_due_at)
    )
    if site:
        query = query.where(col(RecordRequest.site) == site)
    if status:
        query = query.where(col(RecordRequest.status) == status)
    if kind:
        query = query.where(col(RecordRequest.kind) == kind)
    if not include_closed and not status:
        query = query.where(col(RecordRequest.status).not_in([s.value for s in TERMINAL_STATUSES]))
    return list(session.execute(query.limit(limit)).scalars().all())


def statuses(session: Session) -> list[str]:
    """The stage of every request (the demo waits for its seeded requests to be projected)."""
    return list(session.execute(select(col(RecordRequest.status))).scalars().all())


def deficiency_codes(session: Session, request_id: str) -> list[str]:
    """The codes of the request's open deficiencies (the public status page names each one in
    the patient's language; the messages themselves are English staff text)."""
    summary = session.execute(
        select(col(RecordRequest.summary)).where(col(RecordRequest.id) == request_id)
    ).scalar_one_or_none()
    found = (summary or {}).get("deficiencies") or []
    return [str(d.get("code")) for d in found if isinstance(d, dict) and d.get("code")]
