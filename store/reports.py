"""Every report's SQL: compliance, turnaround, the breach log, work per specialist, fees and
disclosures by purpose (read-only; the arithmetic and definitions live in domain.reports).

Each query reads one range of the site's local months: the sites and the widest UTC range over
them, which an index on (site, <time column>) is scanned by, then each site's exact range (its
local midnights as UTC instants). Months are labelled in each site's own time zone. The
compliance and turnaround reports read closed requests through ix_requests_site_closed_at
(migration 0017_report_indexes), which carries every column they need: an index-only scan.
Returned rows carry opaque ids and codes only, never patient information.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
    tuple_,
)
from sqlmodel import Session

from domain.reports import (
    ANSWERED_STATUSES,
    TURNAROUND_BUCKETS,
    UNANSWERED_CLOSED_STATUSES,
    BreachCause,
    ComplianceCounts,
    Holder,
    Month,
    TrailEvent,
    Turnaround,
    breach_cause,
    days_late,
    holder_at,
    window,
)
from domain.sites import site_profile
from domain.standing import CLOCK_SATISFIED_STATUSES
from domain.types import TERMINAL_STATUSES, Site
from store.models import Disclosure, RecordRequest, RequestEvent
from store.tables import table_of

R = table_of(RecordRequest).c
E = table_of(RequestEvent).c
D = table_of(Disclosure).c

TERMINAL = tuple(sorted(s.value for s in TERMINAL_STATUSES))
PARKED = tuple(sorted(s.value for s in CLOCK_SATISFIED_STATUSES))
#: Actors that are not staff (domain.reports.NOT_STAFF), for SQL.
_NOT_STAFF = ("", "system", "public", "engine")


def zone_of(site: Any) -> ColumnElement[str]:
    """The IANA time zone of a row's site (UTC for a row with no site)."""
    return case(
        *[(site == s.value, literal(site_profile(s).time_zone)) for s in Site],
        else_=literal("UTC"),
    )


def local_month(instant: Any, site: Any) -> ColumnElement[str]:
    """`YYYY-MM` of an instant in the site's time zone."""
    return func.to_char(func.timezone(zone_of(site), instant), "YYYY-MM")


def local_day(instant: Any, site: Any) -> ColumnElement[date]:
    """The site's calendar date of an instant."""
    return cast(func.timezone(zone_of(site), instant), Date)


def in_months(
    instant: Any, site: Any, sites: Sequence[str], first: Month, last: Month
) -> ColumnElement[bool]:
    """The instant falls in the site's local months `first`..`last`, for one of `sites`: the
    sites and the widest UTC range over them (what an index on (site, instant) is scanned
    by), then each site's exact range (checked on the index entries)."""
    names = sorted(set(sites))
    if not names:
        return false()
    bounds = {name: window(name, first, last) for name in names}
    exact = [and_(site == n, instant >= a, instant < b) for n, (a, b) in bounds.items()]
    return and_(
        site.in_(names),
        instant >= min(a for a, _ in bounds.values()),
        instant < max(b for _, b in bounds.values()),
        or_(*exact),
    )


#: The staff accounts' table, by name only (its model belongs to the web app's accounts).
_STAFF = table("staff_users", column("id"), column("username"))


def staff_names(session: Session, ids: Sequence[str]) -> dict[str, str]:
    """Usernames of staff account ids (an id with no account is left out)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session.execute(
        select(_STAFF.c.id, _STAFF.c.username).where(_STAFF.c.id.in_(wanted))
    ).all()
    return {str(i): str(name) for i, name in rows}


def _month(text: str | None) -> Month | None:
    return Month.parse(text) if text else None


# ---- compliance ---------------------------------------------------------------------------


def compliance(
    session: Session, sites: Sequence[str], first: Month, last: Month
) -> list[ComplianceCounts]:
    """Requests closed in each site-month: answered, within the target, within the legal due
    date (extended or not), within the original one, extended; then each month over all the
    sites (site None) and the whole range (site and month None)."""
    answered = R.status.in_(ANSWERED_STATUSES)
    month = local_month(R.closed_at, R.site).label("month")
    # the first instant after the original due date: local midnight (a timestamp without a
    # zone, read in the site's zone; a bare date would be taken as UTC midnight)
    original_end = func.timezone(
        zone_of(R.site), cast(R.original_due_date + 1, DateTime(timezone=False))
    )
    inner = (
        select(
            R.site.label("site"),
            month,
            answered.label("answered"),
            and_(answered, R.target_due_at.is_not(None)).label("with_target"),
            and_(answered, R.closed_at <= R.target_due_at).label("within_target"),
            and_(answered, R.closed_at <= R.due_at).label("within_legal"),
            and_(answered, R.closed_at < original_end).label("within_original"),
            and_(answered, R.extended.is_(True)).label("extended"),
            R.status.in_(UNANSWERED_CLOSED_STATUSES).label("unanswered"),
        )
        .where(
            R.closed_at.is_not(None),
            R.status.in_(TERMINAL),
            in_months(R.closed_at, R.site, sites, first, last),
        )
        .subquery()
    )
    q = inner.c
    counts = [
        func.count().filter(q.answered),
        func.count().filter(q.with_target),
        func.count().filter(q.within_target),
        func.count().filter(q.within_legal),
        func.count().filter(q.within_original),
        func.count().filter(q.extended),
        func.count().filter(q.unanswered),
    ]
    rows = session.execute(
        select(q.site, q.month, *counts)
        .group_by(func.grouping_sets(tuple_(q.site, q.month), tuple_(q.month), tuple_()))
        .order_by(q.month.nulls_last(), q.site.nulls_last())
    ).all()
    return [
        ComplianceCounts(site, _month(month), *(int(n) for n in numbers))
        for site, month, *numbers in rows
    ]


# ---- turnaround ---------------------------------------------------------------------------


def turnaround(
    session: Session, sites: Sequence[str], first: Month, last: Month
) -> list[Turnaround]:
    """Calendar days from receipt to answer (site dates) of the requests answered in the
    range: counts per bucket, lower median, 90th percentile and longest, per site and in all."""
    days = (local_day(R.closed_at, R.site) - local_day(R.received_at, R.site)).label("days")
    inner = (
        select(R.site.label("site"), days)
        .where(
            R.status.in_(ANSWERED_STATUSES),
            R.closed_at.is_not(None),
            in_months(R.closed_at, R.site, sites, first, last),
        )
        .subquery()
    )
    q = inner.c
    buckets = []
    for i, bucket in enumerate(TURNAROUND_BUCKETS):
        low = q.days >= bucket.low if i else literal(True)  # a negative span counts as 0 days
        high = q.days <= bucket.high if bucket.high is not None else literal(True)
        buckets.append(func.count().filter(and_(low, high)))
    rows = session.execute(
        select(
            q.site,
            func.count(),
            *buckets,
            func.percentile_disc(0.5).within_group(q.days),
            func.percentile_disc(0.9).within_group(q.days),
            func.max(q.days),
        )
        .group_by(func.grouping_sets(tuple_(q.site), tuple_()))
        .order_by(q.site.nulls_last())
    ).all()
    out = []
    n = len(TURNAROUND_BUCKETS)
    for site, answered, *rest in rows:
        counts, (median, p90, longest) = rest[:n], rest[n:]
        out.append(
            Turnaround(
                site=site,
                answered=int(answered),
                buckets=tuple(int(c) for c in counts),
                median_days=None if median is None else int(median),
                p90_days=None if p90 is None else int(p90),
                max_days=None if longest is None else int(longest),
            )
        )
    return out


# ---- breach log ---------------------------------------------------------------------------


def breached(now: datetime) -> ColumnElement[bool]:
    """The board's breach (app.board.breach_history): closed after the legal due date, open
    (not parked) past it, or flagged by the workflow's clock. A breach stays one after closing."""
    return or_(
        and_(R.status.in_(TERMINAL), R.closed_at > R.due_at),
        and_(R.status.not_in(TERMINAL + PARKED), R.due_at < now),
        R.breached.is_(True),
    )


def _breach_where(
    sites: Sequence[str], first: Month, last: Month, now: datetime
) -> list[ColumnElement[bool]]:
    """Breaches whose legal due date (a site date) falls in the months, at the sites."""
    return [
        R.site.in_(sorted(set(sites))),
        R.due_date >= first.first_day,
        R.due_date < last.next().first_day,
        breached(now),
    ]


@dataclass(frozen=True)
class BreachEntry:
    """One breach, open or closed, with its cause and holder as of the legal due date."""

    request_id: str
    tracking_number: str
    site: str
    kind: str
    status: str
    received_at: datetime
    due_date: date
    due_at: datetime
    extended: bool
    closed_at: datetime | None
    days_late: int
    cause: BreachCause
    holder: Holder

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL


def breach_count(
    session: Session, sites: Sequence[str], first: Month, last: Month, now: datetime
) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(table_of(RecordRequest))
            .where(*_breach_where(sites, first, last, now))
        ).scalar_one()
    )


def breach_months(
    session: Session, sites: Sequence[str], first: Month, last: Month, now: datetime
) -> dict[Month, tuple[int, int]]:
    """Breaches by the month of their legal due date: (still open, closed)."""
    month = func.to_char(R.due_date, "YYYY-MM")
    rows = session.execute(
        select(
            month,
            func.count().filter(R.status.not_in(TERMINAL)),
            func.count().filter(R.status.in_(TERMINAL)),
        )
        .where(*_breach_where(sites, first, last, now))
        .group_by(month)
    ).all()
    return {Month.parse(m): (int(o), int(c)) for m, o, c in rows}


#: Audit rows that say where a request stood and who held it (the rest are reads).
_TRAIL_ACTIONS = ("release.held", "release.approved", "sensitive.reviewed", "request.completed")


def trail_until_due(session: Session, request_ids: Sequence[str]) -> dict[str, list[TrailEvent]]:
    """Each request's workflow steps, claims and release holds up to its legal due date."""
    found: dict[str, list[TrailEvent]] = {rid: [] for rid in request_ids}
    for start in range(0, len(request_ids), 1000):
        chunk = list(request_ids[start : start + 1000])
        rows = session.execute(
            select(E.request_id, E.at, E.actor, E.action, E.to_status, E.detail)
            .join(table_of(RecordRequest), R.id == E.request_id)
            .where(
                E.request_id.in_(chunk),
                E.at <= R.due_at,
                or_(
                    E.to_status.is_not(None),
                    E.action.like("queue.%"),
                    E.action.in_(_TRAIL_ACTIONS),
                ),
            )
            .order_by(E.request_id, E.at, E.id)
        ).all()
        for rid, at, actor, action, to_status, detail in rows:
            found[rid].append(TrailEvent(at, actor, action, to_status, detail))
    return found


def breach_log(
    session: Session,
    sites: Sequence[str],
    first: Month,
    last: Month,
    now: datetime,
    *,
    limit: int,
    offset: int = 0,
) -> list[BreachEntry]:
    """Breaches in legal-due-date order (oldest first), each with its cause and holder."""
    rows = session.execute(
        select(
            R.id,
            R.tracking_number,
            R.site,
            R.kind,
            R.status,
            R.received_at,
            R.due_date,
            R.due_at,
            R.extended,
            R.closed_at,
        )
        .where(*_breach_where(sites, first, last, now))
        .order_by(R.due_date, R.tracking_number)
        .limit(limit)
        .offset(offset)
    ).all()
    trails = trail_until_due(session, [r.id for r in rows])
    out = []
    for r in rows:
        closed = r.closed_at if r.status in TERMINAL else None
        trail = trails.get(r.id, [])
        out.append(
            BreachEntry(
                request_id=r.id,
                tracking_number=r.tracking_number,
                site=r.site,
                kind=r.kind,
                status=r.status,
                received_at=r.received_at,
                due_date=r.due_date,
                due_at=r.due_at,
                extended=bool(r.extended),
                closed_at=closed,
                days_late=days_late(r.site, r.due_date, r.due_at, closed, now),
                cause=breach_cause(trail, r.due_at),
                holder=holder_at(trail, r.due_at),
            )
        )
    return out


# ---- work per specialist ------------------------------------------------------------------


@dataclass(frozen=True)
class SpecialistWork:
    """What one staff member did in the range at the sites (from the audit trail)."""

    actor: str  # the account's opaque id
    claims: int  # requests taken from the queue (claimed)
    requests: int  # distinct requests they moved on (a workflow step)
    steps: int  # workflow steps they took (verify, record a payment, release, deny...)
    answered: int  # requests they answered (completed, denied, rejected)
    answered_late: int  # of those, after the legal due date


def specialist_work(
    session: Session, sites: Sequence[str], first: Month, last: Month
) -> list[SpecialistWork]:
    """Per staff member: claims, requests and steps, answers and late answers, in the range
    (the site's months of each audit row)."""
    step = E.to_status.is_not(None)
    answer = and_(
        E.to_status.in_(ANSWERED_STATUSES),
        or_(E.from_status.is_(None), E.from_status.not_in(TERMINAL)),
    )
    rows = session.execute(
        select(
            E.actor,
            func.count().filter(E.action == "queue.claimed"),
            func.count(func.distinct(E.request_id)).filter(step),
            func.count().filter(step),
            func.count().filter(answer),
            func.count().filter(and_(answer, E.at > R.due_at)),
        )
        .join(table_of(RecordRequest), R.id == E.request_id)
        .where(
            E.actor.not_in(_NOT_STAFF),
            E.actor.not_like("cli:%"),
            or_(step, E.action == "queue.claimed"),
            in_months(E.at, R.site, sites, first, last),
        )
        .group_by(E.actor)
        .order_by(E.actor)
    ).all()
    return [SpecialistWork(actor, *(int(n) for n in numbers)) for actor, *numbers in rows]


# ---- fees ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeCounts:
    """Fees of the requests received in a site-month (None: a total), in cents."""

    site: str | None
    month: Month | None
    requests: int  # received in the month
    with_fee: int  # quoted a fee (a FedEx $45, a third party's cost-based fee)
    paid_in_full: int
    billed_cents: int
    paid_cents: int
    outstanding_cents: int  # unpaid on requests still open
    uncollected_cents: int  # unpaid on requests closed (cancelled, denied...) without payment


def fees(session: Session, sites: Sequence[str], first: Month, last: Month) -> list[FeeCounts]:
    """Fees billed and paid by the month the request was received, per site, per month over
    the sites and in all."""
    fee = R.fee_cents
    unpaid = func.greatest(R.fee_cents - R.paid_cents, 0)
    closed = R.status.in_(TERMINAL)
    inner = (
        select(
            R.site.label("site"),
            local_month(R.received_at, R.site).label("month"),
            fee.label("fee"),
            R.paid_cents.label("paid"),
            case((closed, 0), else_=unpaid).label("outstanding"),
            case((closed, unpaid), else_=0).label("uncollected"),
        )
        .where(in_months(R.received_at, R.site, sites, first, last))
        .subquery()
    )
    q = inner.c
    rows = session.execute(
        select(
            q.site,
            q.month,
            func.count(),
            func.count().filter(q.fee > 0),
            func.count().filter(and_(q.fee > 0, q.paid >= q.fee)),
            func.coalesce(func.sum(q.fee), 0),
            func.coalesce(func.sum(q.paid), 0),
            func.coalesce(func.sum(q.outstanding), 0),
            func.coalesce(func.sum(q.uncollected), 0),
        )
        .group_by(func.grouping_sets(tuple_(q.site, q.month), tuple_(q.month), tuple_()))
        .order_by(q.month.nulls_last(), q.site.nulls_last())
    ).all()
    return [
        FeeCounts(site, _month(month), *(int(n) for n in numbers)) for site, month, *numbers in rows
    ]


# ---- disclosures by purpose ---------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureCount:
    """Disclosures of one purpose category in a site-month (None: totals)."""

    month: Month | None
    site: str | None  # None in a detail row: recorded for no request (so no site)
    category: str | None
    count: int
    total_row: bool = False


def disclosures_by_purpose(
    session: Session,
    sites: Sequence[str],
    first: Month,
    last: Month,
    *,
    with_unsited: bool,
) -> list[DisclosureCount]:
    """Disclosures by purpose category (the accounting category), per month and site, then
    per category over the range, then in all. `with_unsited` adds those recorded for no
    request (months in UTC): only for an account of every site, as the disclosures log."""
    site = R.site
    where = in_months(D.disclosed_at, site, sites, first, last)
    if with_unsited:
        lo = datetime.combine(first.first_day, time(0, 0), tzinfo=UTC)
        hi = datetime.combine(last.next().first_day, time(0, 0), tzinfo=UTC)
        where = or_(where, and_(site.is_(None), D.disclosed_at >= lo, D.disclosed_at < hi))
    inner = (
        select(
            local_month(D.disclosed_at, site).label("month"),
            site.label("site"),
            D.category.label("category"),
        )
        .select_from(table_of(Disclosure).outerjoin(table_of(RecordRequest), R.id == D.request_id))
        .where(where)
        .subquery()
    )
    q = inner.c
    rows = session.execute(
        select(
            q.month, q.site, q.category, func.grouping(q.month, q.site, q.category), func.count()
        )
        .group_by(
            func.grouping_sets(tuple_(q.month, q.site, q.category), tuple_(q.category), tuple_())
        )
        .order_by(q.month.nulls_last(), q.site.nulls_last(), q.category.nulls_last())
    ).all()
    return [
        DisclosureCount(_month(month), s, category, int(n), total_row=bool(grouping))
        for month, s, category, grouping, n in rows
    ]
