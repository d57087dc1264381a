"""What a requester is told they got: the FedEx tracking number and the payments received.

Read from what the engine recorded (the delivery's outbound item or batch item; the
`payment.recorded` events), by the completion letter (activities) and the request and status
pages (app), so all three say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from domain.calendar import local_date
from domain.notices import PaymentReceipt
from domain.types import Site
from store.models import BatchItem, OutboundItem, RecordRequest, RequestEvent


@dataclass(frozen=True)
class Receipts:
    """A request's FedEx tracking number (if shipped) and its payments, oldest first."""

    carrier_tracking_number: str | None = None
    payments: list[PaymentReceipt] = field(default_factory=list)

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)


def carrier_tracking_number(session: Session, request_id: str) -> str | None:
    """The carrier's tracking number of the request's shipment, once it has one."""
    batched = session.execute(
        select(col(BatchItem.carrier_tracking_number))
        .where(
            col(BatchItem.request_id) == request_id,
            col(BatchItem.carrier_tracking_number).is_not(None),
        )
        .order_by(col(BatchItem.sent_at).desc())
        .limit(1)
    ).scalar_one_or_none()
    if batched:
        return str(batched)
    details = session.execute(
        select(col(OutboundItem.detail))
        .where(col(OutboundItem.request_id) == request_id, col(OutboundItem.channel) == "ship")
        .order_by(col(OutboundItem.id).desc())
    ).scalars()
    for detail in details:
        number = (detail or {}).get("tracking_number")
        if number:
            return str(number)
    return None


def payments(session: Session, request_id: str, site: Site) -> list[PaymentReceipt]:
    """Each payment recorded for the request: amount, the site's date it was paid, reference."""
    rows = session.execute(
        select(col(RequestEvent.at), col(RequestEvent.detail))
        .where(
            col(RequestEvent.request_id) == request_id,
            col(RequestEvent.action) == "payment.recorded",
        )
        .order_by(col(RequestEvent.at), col(RequestEvent.id))
    ).all()
    found = []
    for at, detail in rows:
        detail = detail or {}
        cents = detail.get("amount_cents")
        if not isinstance(cents, int) or cents <= 0:
            continue
        found.append(
            PaymentReceipt(
                amount_cents=cents,
                paid_on=local_date(site, at),
                reference=str(detail.get("reference") or ""),
            )
        )
    return found


def receipts(session: Session, request_id: str, site: Site | str) -> Receipts:
    """The request's tracking number and payments."""
    return Receipts(
        carrier_tracking_number=carrier_tracking_number(session, request_id),
        payments=payments(session, request_id, Site(site)),
    )


def request_team(session: Session, request_id: str) -> str | None:
    """The team whose queue the request is in (None: not projected yet)."""
    team = session.execute(
        select(col(RecordRequest.team)).where(col(RecordRequest.id) == request_id)
    ).scalar_one_or_none()
    return str(team) if team else None
