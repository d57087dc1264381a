"""Legal and site clocks as data, and the arithmetic on them.

HIPAA (164.524(b)(2)) gives 30 days from receipt, extendable once by at most 30 days with a
written reason and date sent within the first 30 days; the site's own target is 14 days. The
clock starts at receipt and is never silently restarted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from domain.calendar import (
    add_business_days,
    end_of_local_day,
    local_date,
    next_business_morning,
    opening_time,
)
from domain.errors import FieldIssue, issue
from domain.types import RequestKind, Site, SlaEvent


@dataclass(frozen=True)
class ClockPolicy:
    """How long the hospital has for one kind of request (calendar days from receipt)."""

    legal_days: int
    extension_max_days: int
    target_days: int | None = None  # the site's own, stricter target
    reminder_day: int | None = None  # nudge the assignee before the target
    max_extensions: int = 1
    legal_risk_business_days: int = 3  # escalate this many business days before the due date


ACCESS_POLICY = ClockPolicy(legal_days=30, extension_max_days=30, target_days=14, reminder_day=10)
LONG_POLICY = ClockPolicy(legal_days=60, extension_max_days=30)

CLOCK_POLICIES: dict[RequestKind, ClockPolicy] = {
    RequestKind.ACCESS_OWN: ACCESS_POLICY,
    RequestKind.THIRD_PARTY: ACCESS_POLICY,
    RequestKind.IMAGING: ACCESS_POLICY,
    RequestKind.AMENDMENT: LONG_POLICY,
    RequestKind.ACCOUNTING: LONG_POLICY,
}


def clock_policy(kind: RequestKind) -> ClockPolicy:
    """The clock policy for a kind; kinds without a legal clock use the access policy."""
    return CLOCK_POLICIES.get(RequestKind(kind), ACCESS_POLICY)


class Clock(BaseModel):
    """A request's clocks. Instants are timezone-aware UTC; dates are the site's local dates."""

    site: Site
    kind: RequestKind
    received_at: datetime
    reminder_at: datetime | None
    target_due_date: date | None
    target_due_at: datetime | None
    original_due_date: date
    due_date: date  # effective legal due date (the extended one after an extension)
    due_at: datetime
    legal_risk_at: datetime
    extensions: int = 0
    extension_reason: str | None = None
    extended_at: datetime | None = None

    @property
    def extended(self) -> bool:
        """True once the one allowed extension was taken."""
        return self.extensions > 0


def _legal_risk_at(site: Site, due_date: date, policy: ClockPolicy) -> datetime:
    return opening_time(site, add_business_days(site, due_date, -policy.legal_risk_business_days))


def start_clock(kind: RequestKind, site: Site, received_at: datetime) -> Clock:
    """Clocks for a request received at `received_at` (the first arrival, by any channel)."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    policy = clock_policy(kind)
    received_day = local_date(site, received_at)
    due_date = received_day + timedelta(days=policy.legal_days)
    target_date = received_day + timedelta(days=policy.target_days) if policy.target_days else None
    return Clock(
        site=site,
        kind=kind,
        received_at=received_at,
        reminder_at=(
            received_at + timedelta(days=policy.reminder_day) if policy.reminder_day else None
        ),
        target_due_date=target_date,
        target_due_at=end_of_local_day(site, target_date) if target_date else None,
        original_due_date=due_date,
        due_date=due_date,
        due_at=end_of_local_day(site, due_date),
        legal_risk_at=_legal_risk_at(site, due_date, policy),
    )


def check_extension(
    clock: Clock, now: datetime, new_due_date: date, reason: str
) -> list[FieldIssue]:
    """Why an extension is not allowed (empty list: it is)."""
    policy = clock_policy(clock.kind)
    problems: list[FieldIssue] = []
    if clock.extensions >= policy.max_extensions:
        problems.append(
            issue(
                "new_due_date",
                "extension_already_taken",
                "The one allowed extension was already taken.",
            )
        )
    if now > end_of_local_day(clock.site, clock.original_due_date):
        problems.append(
            issue(
                "new_due_date",
                "extension_too_late",
                "An extension must be sent before the original due date has passed.",
            )
        )
    latest = clock.original_due_date + timedelta(days=policy.extension_max_days)
    if new_due_date <= clock.original_due_date:
        problems.append(
            issue(
                "new_due_date",
                "extension_not_later",
                "The new date must be after the current due date.",
            )
        )
    elif new_due_date > latest:
        problems.append(
            issue(
                "new_due_date",
                "extension_too_long",
                f"An extension may add at most {policy.extension_max_days} days "
                f"(latest allowed date: {latest.isoformat()}).",
            )
        )
    if not reason or not reason.strip():
        problems.append(
            issue(
                "reason",
                "extension_reason_required",
                "Give the reason for the delay; the requester is told it.",
            )
        )
    return problems


def apply_extension(clock: Clock, new_due_date: date, reason: str, at: datetime) -> Clock:
    """The clock after an allowed extension (call check_extension first)."""
    policy = clock_policy(clock.kind)
    return clock.model_copy(
        update={
            "due_date": new_due_date,
            "due_at": end_of_local_day(clock.site, new_due_date),
            "legal_risk_at": _legal_risk_at(clock.site, new_due_date, policy),
            "extensions": clock.extensions + 1,
            "extension_reason": reason.strip(),
            "extended_at": at,
        }
    )


def sla_marks(clock: Clock) -> list[tuple[SlaEvent, datetime]]:
    """Every clock event the current clock schedules, earliest first."""
    marks: list[tuple[SlaEvent, datetime]] = []
    if clock.reminder_at:
        marks.append((SlaEvent.REMINDER, clock.reminder_at))
    if clock.target_due_at:
        marks.append((SlaEvent.TARGET_MISSED, clock.target_due_at))
    marks.append((SlaEvent.LEGAL_RISK, clock.legal_risk_at))
    marks.append((SlaEvent.BREACH, clock.due_at))
    return sorted(marks, key=lambda m: m[1])


def escalation_time(clock: Clock, at: datetime) -> datetime:
    """When staff are told of a clock event due at `at`: the start of the site's next business
    morning (08:00 local), never at local midnight or over a weekend or holiday. The event's
    identity (`mark_key`) stays the instant it is due; only the telling waits for the office.
    """
    return next_business_morning(clock.site, at)


def mark_key(event: SlaEvent, at: datetime) -> str:
    """Identity of one scheduled clock event (an extension schedules new ones)."""
    return f"{event.value}@{at.isoformat()}"


def next_sla_mark(clock: Clock, fired: set[str]) -> tuple[SlaEvent, datetime] | None:
    """The earliest scheduled clock event that has not fired yet."""
    for event, at in sla_marks(clock):
        if mark_key(event, at) not in fired:
            return event, at
    return None
