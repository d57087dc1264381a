"""The arithmetic of the supervisors' and privacy officer's reports (pure: no I/O).

Months are the site's own calendar months (a request answered at 23:30 in Phoenix on March 31
counts in March there). A request counts as *answered* when the hospital acted on it: completed,
denied or rejected; a cancelled (withdrawn) or expired one was never answered and is shown
apart. A breach is the board's: closed after the legal due date, still open past it, or flagged
by the workflow's clock; it stays a breach after the request closes.

The breach log's cause and holder are read from the audit trail as it stood at the legal due
date: the stage the request sat in (the last workflow step before then), the reasons of a held
release, and who held the claim (or, with no claim, the last staff member who acted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from domain.sites import site_profile
from domain.types import Site, Status

#: Closed stages in which the hospital acted (a denial answers a request as much as a release).
ANSWERED_STATUSES: tuple[str, ...] = (
    Status.COMPLETED.value,
    Status.DENIED.value,
    Status.REJECTED.value,
)
#: Closed without an answer being due any more (withdrawn, authorization revoked, proxy ended).
UNANSWERED_CLOSED_STATUSES: tuple[str, ...] = (Status.CANCELLED.value, Status.EXPIRED.value)

#: The longest range a report covers in one view (bounds every query).
MAX_MONTHS = 60

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, written `YYYY-MM`."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """`2026-03` as a Month; ValueError for anything else."""
        found = _MONTH.match(text.strip())
        if not found:
            raise ValueError("a month is written YYYY-MM")
        year, month = int(found.group(1)), int(found.group(2))
        if not (1 <= month <= 12 and 1900 <= year <= 9998):
            raise ValueError("no such month")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def minus(self, months: int) -> Month:
        """The month `months` before this one."""
        index = self.year * 12 + self.month - 1 - months
        return Month(index // 12, index % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """'Mar 2026'."""
        return self.first_day.strftime("%b %Y")


def months(first: Month, last: Month) -> list[Month]:
    """Every month from `first` to `last`, both included."""
    out: list[Month] = []
    current = first
    while current <= last:
        out.append(current)
        current = current.next()
    return out


def window(site: Site | str, first: Month, last: Month) -> tuple[datetime, datetime]:
    """The instants [start, end) of the site's local months `first`..`last` (DST-correct)."""
    zone = site_profile(Site(site)).zone
    start = datetime.combine(first.first_day, time(0, 0), tzinfo=zone)
    end = datetime.combine(last.next().first_day, time(0, 0), tzinfo=zone)
    return start, end


def share(part: int, whole: int) -> float | None:
    """`part` of `whole` as a percentage with one decimal (None when there is nothing to
    share: 0 of 0 is not 100 %)."""
    if whole <= 0:
        return None
    return round(100.0 * part / whole, 1)


# ---- compliance ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplianceCounts:
    """Requests closed in one site-month (or a total when `site` or `month` is None)."""

    site: str | None
    month: Month | None
    answered: int  # completed, denied or rejected in the month
    with_target: int  # of those, with a site target (the 14-day target of access kinds)
    within_target: int  # answered by the end of the target day
    within_legal: int  # answered by the end of the (possibly extended) legal due date
    within_original: int  # answered by the original legal due date (no extension needed)
    extended: int  # answered after taking the one allowed extension
    unanswered: int  # cancelled or expired in the month (not counted in the shares)

    @property
    def target_share(self) -> float | None:
        return share(self.within_target, self.with_target)

    @property
    def legal_share(self) -> float | None:
        return share(self.within_legal, self.answered)

    @property
    def late(self) -> int:
        """Answered after the legal due date: each one is a breach."""
        return self.answered - self.within_legal


# ---- turnaround ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """Calendar days from receipt to answer (the site's dates), `low`..`high` included."""

    label: str
    low: int
    high: int | None  # None: no upper bound


TURNAROUND_BUCKETS: tuple[Bucket, ...] = (
    Bucket("0-7 days", 0, 7),
    Bucket("8-14 days", 8, 14),
    Bucket("15-30 days", 15, 30),
    Bucket("31-60 days", 31, 60),
    Bucket("61+ days", 61, None),
)


def bucket_of(days: int) -> Bucket:
    """The turnaround bucket of a request answered `days` calendar days after receipt."""
    for bucket in TURNAROUND_BUCKETS:
        if days >= bucket.low and (bucket.high is None or days <= bucket.high):
            return bucket
    return TURNAROUND_BUCKETS[0]  # a negative span (clock skew) counts as same-day


@dataclass(frozen=True)
class Turnaround:
    """How long answers took at one site (None: all selected sites)."""

    site: str | None
    answered: int
    buckets: tuple[int, ...]  # counts, in TURNAROUND_BUCKETS order
    median_days: int | None  # the lower median (a real request's days)
    p90_days: int | None
    max_days: int | None


# ---- breach log ---------------------------------------------------------------------------


#: What a request was waiting for when its legal clock ran out, by the stage it sat in.
STAGE_CAUSES: dict[str, str] = {
    Status.RECEIVED.value: "received, not yet triaged",
    Status.AWAITING_VERIFICATION.value: "identity or authority not yet verified",
    Status.DEFICIENT.value: "waiting for a corrected authorization from the requester",
    Status.AWAITING_PAYMENT.value: "waiting for the requester's payment",
    Status.AWAITING_REQUESTER.value: "waiting for the requester's answer",
    Status.READY_TO_RELEASE.value: "ready to release, not yet released",
    Status.FULFILLING.value: "in delivery",
    Status.QUEUED_FOR_BATCH.value: "waiting for the site's mail, CD or FedEx batch",
    Status.UNDER_REVIEW.value: "with the owning team, not yet decided",
    Status.DENIAL_REVIEW.value: "denial under review by another professional",
    Status.NOTIFYING.value: "amendment accepted, telling the people who must know",
    Status.AWAITING_DISAGREEMENT.value: "amendment denied, waiting for a disagreement statement",
}
#: Stages in which the hospital waited on the requester (the legal clock kept running).
REQUESTER_STAGES = frozenset(
    {Status.DEFICIENT.value, Status.AWAITING_PAYMENT.value, Status.AWAITING_REQUESTER.value}
)
#: Actors that are not a staff member.
NOT_STAFF = frozenset({"", "system", "public", "engine"})


@dataclass(frozen=True)
class TrailEvent:
    """One audit-trail row, as the breach log reads it."""

    at: datetime
    actor: str
    action: str
    to_status: str | None  # set on workflow steps; None on staff reads and claims
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class BreachCause:
    stage: str  # the status code the request sat in at the due date
    text: str  # the stage in words, with a held release's reasons
    on_requester: bool  # the hospital was waiting on the requester
    hold_codes: tuple[str, ...] = ()


def _until(events: Iterable[TrailEvent], instant: datetime) -> list[TrailEvent]:
    return sorted((e for e in events if e.at <= instant), key=lambda e: e.at)


def stage_at(events: Iterable[TrailEvent], instant: datetime) -> str:
    """The stage the request was in at `instant`: the last workflow step's status by then."""
    stage = Status.RECEIVED.value
    for event in _until(events, instant):
        if event.to_status:
            stage = event.to_status
    return stage


def hold_codes_at(events: Iterable[TrailEvent], instant: datetime) -> tuple[str, ...]:
    """The reasons of a release held at `instant` (as the request page shows a live hold):
    set by `release.held`, answered by an approval, a completion or a sensitive review."""
    codes: list[str] = []
    for event in _until(events, instant):
        if event.action == "release.held":
            codes = [str(c) for c in (event.detail or {}).get("codes", [])]
        elif event.action in ("release.approved", "request.completed"):
            codes = []
        elif event.action == "sensitive.reviewed":
            codes = [c for c in codes if c != "sensitive_review_required"]
    return tuple(codes)


def breach_cause(events: Sequence[TrailEvent], due_at: datetime) -> BreachCause:
    """Why the legal clock ran out: the stage at the due date, in words."""
    stage = stage_at(events, due_at)
    text = STAGE_CAUSES.get(stage, stage.replace("_", " "))
    codes = hold_codes_at(events, due_at) if stage == Status.READY_TO_RELEASE.value else ()
    if codes:
        text = "release held: " + ", ".join(c.replace("_", " ") for c in codes)
    return BreachCause(
        stage=stage, text=text, on_requester=stage in REQUESTER_STAGES, hold_codes=codes
    )


@dataclass(frozen=True)
class Holder:
    """Who held the request when its clock ran out."""

    actor: str | None  # a staff account's id
    how: str  # "claimed" (held the claim), "last acted" (no claim: the last to act), "nobody"


def holder_at(events: Sequence[TrailEvent], due_at: datetime) -> Holder:
    """The claim's holder at `due_at` (claims, reassignments, releases and expiries replayed);
    with no live claim, the last staff member who took a workflow step or a claim before it."""
    holder: str | None = None
    last_actor: str | None = None
    for event in _until(events, due_at):
        staff = event.actor not in NOT_STAFF and not event.actor.startswith("cli:")
        if event.action == "queue.claimed":
            holder = event.actor
        elif event.action == "queue.reassigned":
            to = (event.detail or {}).get("to")
            holder = str(to) if to else holder
        elif event.action in ("queue.released", "queue.claim_expired"):
            holder = None
        if staff and (event.to_status is not None or event.action.startswith("queue.")):
            last_actor = event.actor
    if holder:
        return Holder(holder, "claimed")
    if last_actor:
        return Holder(last_actor, "last acted")
    return Holder(None, "nobody")


def days_late(
    site: Site | str, due_date: date, due_at: datetime, closed_at: datetime | None, now: datetime
) -> int:
    """Calendar days past the legal due date: to the site's closing date when closed, to
    today while open; at least 1 once the due instant has passed (as domain.standing)."""
    end = closed_at if closed_at is not None else now
    if end <= due_at:
        return 0
    local = end.astimezone(site_profile(Site(site)).zone).date()
    return max((local - due_date).days, 1)


def late_phrase(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''} late"
