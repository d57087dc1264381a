"""What a request's page and audit trail read besides the request's row: its events (the
timeline, or the whole audit trail with every read), the letters, emails and print/ship jobs
sent for it, and the submission as received (the page's fallback when the workflow cannot be
asked)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from store.models import IntakeSubmission, OutboundItem, RequestEvent

#: Audit actions that are reads, shown in the audit trail but not in the request's timeline.
READ_ACTIONS = frozenset(
    {
        "request.viewed",
        "audit.viewed",
        "document.viewed",
        "packet.previewed",
        "packet.pdf_viewed",
        "disclosures.listed",
        "disclosures.exported",
    }
)


def timeline(session: Session, request_id: str, *, include_reads: bool) -> list[RequestEvent]:
    """Every event of the request, oldest first (reads only in the audit trail)."""
    query = select(RequestEvent).where(col(RequestEvent.request_id) == request_id)
    if not include_reads:
        query = query.where(col(RequestEvent.action).not_in(READ_ACTIONS))
    return list(
        session.execute(query.order_by(col(RequestEvent.at), col(RequestEvent.id))).scalars()
    )


def documents(session: Session, request_id: str) -> list[OutboundItem]:
    """Letters, emails and print/ship jobs sent for the request."""
    return list(
        session.execute(
            select(OutboundItem)
            .where(col(OutboundItem.request_id) == request_id)
            .order_by(col(OutboundItem.id))
        ).scalars()
    )


def outbound_item(session: Session, item_id: int) -> OutboundItem | None:
    """One item sent (the caller checks it is the request's)."""
    return session.get(OutboundItem, item_id)


def stored_submission(session: Session, request_id: str) -> dict[str, Any] | None:
    """The submission as received (fallback when the workflow cannot be queried)."""
    payload = session.execute(
        select(col(IntakeSubmission.payload)).where(col(IntakeSubmission.request_id) == request_id)
    ).scalar_one_or_none()
    return payload if isinstance(payload, dict) else None
