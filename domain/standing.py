"""Where a request stands against its legal clock: work with days left, parked, or closed.

Parked work is open but the hospital has already acted and the legal clock is satisfied (a proxy
grant in force, an accepted amendment being told to others, a denied amendment waiting for the
patient's statement of disagreement): it has no days left and can never become late. Finished
work shows when it closed and whether that was in time: a breach is permanent history, so a
request closed after its legal due date says so for good ("completed 3 days late").

Pure: the queue, the board, the request page and `roi status` all read requests through this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.calendar import business_days_between, local_date
from domain.types import TERMINAL_STATUSES, Site, Status

#: Open, but the legal clock is satisfied: not work with days left, never late.
CLOCK_SATISFIED_STATUSES: frozenset[Status] = frozenset(
    {Status.ACTIVE, Status.NOTIFYING, Status.AWAITING_DISAGREEMENT, Status.DENIAL_REVIEW}
)

#: Why a parked request has no days left (shown instead of them).
PARKED_REASONS: dict[Status, str] = {
    Status.ACTIVE: "proxy access granted and in force",
    Status.NOTIFYING: "amendment accepted; the people who must know are being told",
    Status.AWAITING_DISAGREEMENT: (
        "amendment denied; waiting for the patient's statement of disagreement"
    ),
    Status.DENIAL_REVIEW: (
        "access denied in time; another licensed professional is reviewing the denial"
    ),
}


class Standing(StrEnum):
    OPEN = "open"  # the hospital still has to act: business days left (negative: overdue)
    PARKED = "parked"  # open, legal clock satisfied
    CLOSED = "closed"  # completed, denied, cancelled, expired or rejected


def standing_of(status: Status | str) -> Standing:
    """Open work, parked work or closed."""
    status = Status(status)
    if status in TERMINAL_STATUSES:
        return Standing.CLOSED
    if status in CLOCK_SATISFIED_STATUSES:
        return Standing.PARKED
    return Standing.OPEN


@dataclass(frozen=True)
class ClockReading:
    """A request's clock as staff should read it now."""

    standing: Standing
    status: Status
    due_date: date
    business_days_left: int | None  # open work only
    target_business_days_left: int | None  # open work with a site target only
    closed_on: date | None  # closed: the site's local date it closed
    days_late: int | None  # closed: calendar days after the legal due date (0: in time)
    breached: bool  # the legal due date passed before the hospital acted (now or for good)
    parked_reason: str | None = None

    @property
    def closed_late(self) -> bool:
        return bool(self.days_late)

    @property
    def late_phrase(self) -> str | None:
        """'completed 3 days late' for a request closed after its legal due date, else None."""
        return lateness(self.status, self.days_late) if self.days_late else None

    def summary(self) -> str:
        """One line: '3 business days left', 'parked: …', 'completed 2026-12-04, 3 days late'."""
        if self.standing == Standing.PARKED:
            return f"parked: {self.parked_reason}"
        if self.standing == Standing.CLOSED:
            verb = self.status.value.replace("_", " ")
            if self.closed_on is None:
                return verb
            if self.days_late:
                return f"{verb} {self.closed_on.isoformat()}, {self.late_phrase}"
            return f"{verb} {self.closed_on.isoformat()}, in time"
        left = self.business_days_left or 0
        if left < 0:
            return f"{-left} business day{'s' if left != -1 else ''} overdue"
        return f"{left} business day{'s' if left != 1 else ''} left"


def lateness(status: Status | str, days_late: int) -> str:
    """'completed 3 days late', 'denied 1 day late'."""
    verb = Status(status).value.replace("_", " ")
    return f"{verb} {days_late} day{'s' if days_late != 1 else ''} late"


def read_clock(
    site: Site | str,
    status: Status | str,
    *,
    due_date: date,
    due_at: datetime,
    target_due_date: date | None,
    closed_at: datetime | None,
    now: datetime,
    breached_flag: bool = False,
) -> ClockReading:
    """The clock of one request as of `now` (dates in the site's local calendar)."""
    site, status = Site(site), Status(status)
    standing = standing_of(status)
    today = local_date(site, now)
    if standing == Standing.CLOSED:
        closed_on = local_date(site, closed_at) if closed_at else None
        late = closed_at is not None and closed_at > due_at
        days_late = max((closed_on - due_date).days, 1) if late and closed_on else 0
        return ClockReading(
            standing=standing,
            status=status,
            due_date=due_date,
            business_days_left=None,
            target_business_days_left=None,
            closed_on=closed_on,
            days_late=days_late if closed_at is not None else None,
            breached=late or breached_flag,
        )
    if standing == Standing.PARKED:
        return ClockReading(
            standing=standing,
            status=status,
            due_date=due_date,
            business_days_left=None,
            target_business_days_left=None,
            closed_on=None,
            days_late=None,
            breached=breached_flag,
            parked_reason=PARKED_REASONS[status],
        )
    return ClockReading(
        standing=standing,
        status=status,
        due_date=due_date,
        business_days_left=business_days_between(site, today, due_date),
        target_business_days_left=(
            business_days_between(site, today, target_due_date) if target_due_date else None
        ),
        closed_on=None,
        days_late=None,
        breached=breached_flag or due_at < now,
    )
