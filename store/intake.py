"""Submissions as received (`intake_submissions`), stored before anything can fail so none is
ever lost; outside records counted (`outside_records_redirects`); and what intake finds again:
a submission kept for staff review, one to correct, those never finished (crash recovery).
Every function runs in the caller's transaction (services/intake.py decides the order)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlmodel import Session, col

from domain.kinds.outside_records import reply_key
from store.models import IntakeSubmission, OutboundItem, OutsideRecordsRedirect, RecordRequest


def store_submission(
    session: Session,
    *,
    submission_id: str,
    received_at: datetime,
    channel: str,
    source: str,
    idempotency_key: str | None,
    payload: Any,
) -> None:
    """Keep a submission exactly as received (PHI), before it is validated."""
    session.add(
        IntakeSubmission(  # type: ignore[call-arg]  # stored_at is the database default (now())
            id=submission_id,
            received_at=received_at,
            channel=channel,
            source=source,
            idempotency_key=idempotency_key,
            payload=payload,
        )
    )


def submission(session: Session, submission_id: str) -> IntakeSubmission | None:
    """One submission."""
    return session.get(IntakeSubmission, submission_id)


def kept_for_review(session: Session) -> list[IntakeSubmission]:
    """Every submission refused at intake and kept for staff, oldest first."""
    return list(
        session.execute(
            select(IntakeSubmission)
            .where(col(IntakeSubmission.outcome) == "rejected")
            .order_by(col(IntakeSubmission.received_at))
        ).scalars()
    )


def claim_for_correction(session: Session, submission_id: str) -> bool:
    """Take a submission kept for review for correction; False when someone else just did (two
    people correcting it at once start one request)."""
    claimed = session.execute(
        update(IntakeSubmission)
        .where(
            col(IntakeSubmission.id) == submission_id,
            col(IntakeSubmission.outcome) == "rejected",
        )
        .values(outcome="correcting")
    )
    return bool(cast(CursorResult[Any], claimed).rowcount)


def count_redirect(
    session: Session, *, submission_id: str, site: str, channel: str, received_at: datetime
) -> None:
    """Outside records sent to ROI by mistake: counted once, never queued."""
    session.execute(
        insert(OutsideRecordsRedirect)
        .values(
            submission_id=submission_id,
            site=site,
            channel=channel,
            received_at=received_at,
        )
        .on_conflict_do_nothing(index_elements=["submission_id"])
    )


def unfinished(session: Session, cutoff: datetime) -> list[IntakeSubmission]:
    """Submissions stored but never finished: accepted without a projected request, left
    unvalidated since before `cutoff`, or outside records whose reply was never recorded as
    sent."""
    return list(
        session.execute(
            select(IntakeSubmission).where(
                or_(
                    and_(
                        col(IntakeSubmission.outcome) == "accepted",
                        col(IntakeSubmission.request_id).not_in(select(col(RecordRequest.id))),
                    ),
                    and_(
                        col(IntakeSubmission.outcome) == "received",
                        col(IntakeSubmission.stored_at) < cutoff,
                    ),
                    and_(  # outside records whose reply was never recorded as sent
                        col(IntakeSubmission.outcome) == "redirected",
                        cast(Any, IntakeSubmission.payload).has_any(  # JSONB ?|
                            array(["sender_email", "sender_address"])
                        ),
                        ~exists().where(
                            col(OutboundItem.item_key)
                            == func.concat(reply_key(""), col(IntakeSubmission.id))
                        ),
                    ),
                )
            )
        )
        .scalars()
        .all()
    )


def request_submission(session: Session, request_id: str) -> IntakeSubmission | None:
    """The accepted submission a request was made from (its payload is PHI)."""
    return (
        session.execute(
            select(IntakeSubmission)
            .where(col(IntakeSubmission.request_id) == request_id)
            .order_by(col(IntakeSubmission.received_at))
            .limit(1)
        )
        .scalars()
        .first()
    )
