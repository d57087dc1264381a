"""The specialists' queue: listing, counts, and claims (next, claim, release, reassign, expiry).

"Next request" is one UPDATE whose subquery takes the most urgent unclaimed row with
`FOR UPDATE SKIP LOCKED`: two specialists pressing it together lock different rows, so no
request is ever claimed twice. Claims untouched for the timeout go back to the queue.

Every function runs in the caller's transaction; the account asking is a `Worker` (the web
app's `app.accounts.Account`): its id, the teams its role works and its sites.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    TextClause,
    and_,
    func,
    or_,
    select,
    text,
    true,
    update,
)
from sqlmodel import Session, col
from ulid import ULID

from domain.calendar import due_on_holiday
from domain.standing import CLOCK_SATISFIED_STATUSES
from domain.types import (
    ACTIONABLE_STATUSES,
    IN_DELIVERY_STATUSES,
    TERMINAL_STATUSES,
    WAITING_ON_REQUESTER,
    Site,
    Status,
)
from store.audit import audit
from store.models import BoardSummary
from store.models import RecordRequest as R
from store.tables import table_of
from store.web_models import StaffUser

T = table_of(R)  # plain Core statements: no ORM bookkeeping
TERMINAL = tuple(s.value for s in TERMINAL_STATUSES)
#: In delivery: the hospital's part is done, the request has left the working queue.
IN_DELIVERY = tuple(s.value for s in Status if s in IN_DELIVERY_STATUSES)  # in stage order
WAITING = (*(s.value for s in WAITING_ON_REQUESTER), Status.AWAITING_REQUESTER.value)
#: Parked: open, but the legal clock is satisfied (a proxy grant in force, an amendment waiting
#: on the patient's statement of disagreement): no days left, never late, not in the default view.
PARKED = tuple(sorted(s.value for s in CLOCK_SATISFIED_STATUSES))
#: What the queue shows by default: everything still open that is neither on its way out nor
#: parked.
QUEUE_STATUSES = tuple(
    s.value
    for s in Status
    if s.value not in TERMINAL and s.value not in IN_DELIVERY and s.value not in PARKED
)
#: Every stage the queue can be filtered to.
FILTER_STATUSES = QUEUE_STATUSES + IN_DELIVERY + PARKED


class Worker(Protocol):
    """The account a queue is listed, counted or claimed for."""

    @property
    def id(self) -> str: ...

    @property
    def sites(self) -> frozenset[str] | None: ...  # None: every site

    @property
    def site_list(self) -> list[str]: ...

    @property
    def teams(self) -> frozenset[str]: ...  # the teams its role works


DUE_WINDOWS = {
    "breached": "Legal due date passed",
    "target_missed": "14-day target missed",
    "due_3d": "Legal due within 3 days",
    "due_7d": "Legal due within 7 days",
}


@dataclass
class QueueFilter:
    kind: str | None = None
    status: str | None = None
    channel: str | None = None
    due: str | None = None
    site: str | None = None
    claim: str | None = None  # mine, unclaimed
    page: int = 1

    def query_string(self, **change: Any) -> str:
        values = {**self.__dict__, **change}
        parts = [f"{k}={v}" for k, v in values.items() if v and not (k == "page" and v == 1)]
        return "?" + "&".join(parts) if parts else ""


@dataclass
class QueueRow:
    id: str
    tracking_number: str
    kind: str
    team: str
    site: str
    channel: str
    status: str
    received_at: datetime
    target_due_at: datetime | None
    due_at: datetime
    due_date: date
    extended: bool
    at_risk: bool
    legal_risk: bool
    breached: bool
    assignee: str | None
    assignee_name: str | None
    claimed_at: datetime | None

    @property
    def due_on_holiday(self) -> bool:
        """The legal due date is one of the site's holidays (flagged to staff)."""
        return due_on_holiday(Site(self.site), self.due_date)

    @property
    def parked(self) -> bool:
        """Open but its legal clock is satisfied: no days left, never late."""
        return self.status in PARKED


@dataclass
class QueueCounts:
    total: int = 0
    unclaimed: int = 0
    mine: int = 0
    breached: int = 0
    target_missed: int = 0
    waiting: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def scope(account: Worker) -> list[ColumnElement[bool]]:
    """Rows the account may see: its teams, its sites."""
    conditions: list[ColumnElement[bool]] = [col(R.team).in_(sorted(account.teams))]
    if account.sites is not None:
        conditions.append(col(R.site).in_(sorted(account.sites)))
    return conditions


def _claim_live(cutoff: datetime) -> ColumnElement[bool]:
    return and_(col(R.assignee).is_not(None), col(R.claimed_at) >= cutoff)


def _filters(
    account: Worker, f: QueueFilter, now: datetime, cutoff: datetime, *, with_status: bool
) -> list[ColumnElement[bool]]:
    conditions = scope(account)
    if with_status and f.status:
        conditions.append(col(R.status) == f.status)
    elif with_status:
        conditions.append(col(R.status).in_(QUEUE_STATUSES))
    else:
        conditions.append(col(R.status).not_in(TERMINAL))
    if f.kind:
        conditions.append(col(R.kind) == f.kind)
    if f.channel:
        conditions.append(col(R.channel) == f.channel)
    if f.site:
        conditions.append(col(R.site) == f.site)
    conditions.extend(_due(R, f.due, now))
    if f.claim == "mine":
        conditions.append(and_(col(R.assignee) == account.id, col(R.claimed_at) >= cutoff))
    elif f.claim == "unclaimed":
        conditions.append(~_claim_live(cutoff))
    return conditions


def list_queue(
    session: Session,
    account: Worker,
    f: QueueFilter,
    now: datetime,
    timeout: timedelta,
    page_size: int,
) -> list[QueueRow]:
    """One page of the queue, most urgent first (legal due, then target)."""
    cutoff = now - timeout
    query = (
        select(
            col(R.id),
            col(R.tracking_number),
            col(R.kind),
            col(R.team),
            col(R.site),
            col(R.channel),
            col(R.status),
            col(R.received_at),
            col(R.target_due_at),
            col(R.due_at),
            col(R.due_date),
            col(R.extended),
            col(R.at_risk),
            col(R.legal_risk),
            col(R.breached),
            col(R.assignee),
            col(StaffUser.username),
            col(R.claimed_at),
        )
        .outerjoin(StaffUser, col(StaffUser.id) == col(R.assignee))
        .where(*_filters(account, f, now, cutoff, with_status=True))
        .order_by(col(R.due_at), col(R.target_due_at), col(R.id))
        .limit(page_size)
        .offset((max(f.page, 1) - 1) * page_size)
    )
    rows = []
    for r in session.execute(query):
        row = QueueRow(*r)
        if row.claimed_at is not None and row.claimed_at < cutoff:
            row.assignee = row.assignee_name = None  # timed out: back in the queue
        rows.append(row)
    return rows


def queue_counts(
    session: Session, account: Worker, f: QueueFilter, now: datetime, timeout: timedelta
) -> QueueCounts:
    """Counts for the header: totals under the current filters, and by stage.

    Without a kind, channel or claim filter they come from the trigger-kept board summary plus
    the (few) live claims, so they cost the same with 100 or 100,000 open requests.
    """
    if f.kind or f.channel or f.claim:
        return _live_counts(session, account, f, now, timeout)
    S = table_of(BoardSummary).c
    cutoff = now - timeout

    def where(t: Any, *, with_status: bool) -> list[ColumnElement[bool]]:
        out = [t.team.in_(sorted(account.teams))]
        if account.sites is not None:
            out.append(t.site.in_(sorted(account.sites)))
        if f.site:
            out.append(t.site == f.site)
        if with_status:
            out.append(t.status == f.status if f.status else t.status.in_(QUEUE_STATUSES))
        else:
            out.append(t.status.not_in(TERMINAL))
        out.extend(_due(t, f.due, now))
        return out

    # One grouped pass over the summary answers both the totals (the statuses shown) and the
    # by-stage counts (every open status): it holds open rows only.
    n = S.n
    grouped = session.execute(
        select(
            S.status,
            func.sum(n),
            func.coalesce(func.sum(n).filter(_late(S, now)), 0),
            func.coalesce(func.sum(n).filter(_missed(S, now)), 0),
        )
        .where(*where(S, with_status=False))
        .group_by(S.status)
    ).all()
    shown = {f.status} if f.status else set(QUEUE_STATUSES)
    counts = QueueCounts()
    for status, total, late, missed in grouped:
        if total:
            counts.by_status[status] = int(total)
        if status in shown:
            counts.total += int(total or 0)
            counts.breached += int(late)
            counts.target_missed += int(missed)
            if status in WAITING:
                counts.waiting += int(total or 0)
    held = session.execute(
        select(func.count(), func.count().filter(T.c.assignee == account.id)).where(
            *where(T.c, with_status=True),
            T.c.assignee.is_not(None),
            T.c.claimed_at >= cutoff,
        )
    ).one()
    counts.unclaimed = counts.total - held[0]
    counts.mine = held[1]
    return counts


def _late(t: Any, now: datetime) -> ColumnElement[bool]:
    """Legal due date passed on work still to do (parked work is never late)."""
    return and_(t.status.not_in(PARKED), or_(t.breached.is_(True), t.due_at < now))


def _missed(t: Any, now: datetime) -> ColumnElement[bool]:
    return and_(t.status.not_in(PARKED), or_(t.at_risk.is_(True), t.target_due_at < now))


def _due(t: Any, due: str | None, now: datetime) -> list[ColumnElement[bool]]:
    if due == "breached":
        return [_late(t, now)]
    if due == "target_missed":
        return [_missed(t, now)]
    if due == "due_3d":
        return [t.status.not_in(PARKED), t.due_at < now + timedelta(days=3)]
    if due == "due_7d":
        return [t.status.not_in(PARKED), t.due_at < now + timedelta(days=7)]
    return []


def _live_counts(
    session: Session, account: Worker, f: QueueFilter, now: datetime, timeout: timedelta
) -> QueueCounts:
    """The same counts straight from `requests` (any filter)."""
    cutoff = now - timeout
    conditions = _filters(account, f, now, cutoff, with_status=True)
    live = _claim_live(cutoff)
    row = session.execute(
        select(
            func.count(),
            func.count().filter(~live),
            func.count().filter(and_(live, col(R.assignee) == account.id)),
            func.count().filter(_late(T.c, now)),
            func.count().filter(_missed(T.c, now)),
            func.count().filter(col(R.status).in_(WAITING)),
        ).where(*conditions)
    ).one()
    counts = QueueCounts(*row)
    by_status = session.execute(
        select(col(R.status), func.count())
        .where(
            *_filters(
                account,
                QueueFilter(**{**f.__dict__, "status": None}),
                now,
                cutoff,
                with_status=False,
            )
        )
        .group_by(col(R.status))
    ).all()
    counts.by_status = {status: n for status, n in by_status}
    return counts


# ---- claims -------------------------------------------------------------------------------

_ACTIONABLE_SQL = ", ".join(f"'{s.value}'" for s in ACTIONABLE_STATUSES)
_ALL_SITES = frozenset(s.value for s in Site)


def _claim_next_sql(*, per_site: bool) -> TextClause:
    """The claim and its audit row in one statement.

    Each probe reads the most urgent unclaimed row of one team (every-site accounts:
    ix_requests_claimable, in order) or of one (team, site) pair (site-restricted accounts:
    ix_requests_claimable_site, migration 0020), locked with SKIP LOCKED so concurrent claimers
    pass each other; the best of those heads is claimed. Per pair only when the account's sites
    leave some out: a per-team probe then walked the other sites' rows (a heap visit each, more
    with every claim), while for an every-site account it is one probe and one lock per team
    instead of one per site.
    """
    pairs = "CROSS JOIN unnest(CAST(:sites AS text[])) AS s(site)" if per_site else ""
    site = "r.site = s.site" if per_site else "r.site = ANY(CAST(:sites AS text[]))"
    return text(
        f"""
        WITH claimed AS (
            UPDATE requests SET assignee = :user, claimed_at = :now
            WHERE id = (
                SELECT head.id
                FROM unnest(CAST(:teams AS text[])) AS t(team)
                {pairs}
                CROSS JOIN LATERAL (
                    SELECT r.id, r.due_at, r.target_due_at
                    FROM requests r
                    WHERE r.team = t.team
                      AND {site}
                      AND r.assignee IS NULL
                      AND r.status IN ({_ACTIONABLE_SQL})
                    ORDER BY r.due_at, r.target_due_at
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED
                ) AS head
                ORDER BY head.due_at, head.target_due_at NULLS LAST
                LIMIT 1
            )
            RETURNING id
        )
        INSERT INTO request_events (event_key, request_id, at, actor, action, detail)
        SELECT claimed.id || '-queue.claimed-' || :suffix, claimed.id, :now, :user,
               'queue.claimed', CAST('{{"how": "next"}}' AS jsonb)
        FROM claimed
        RETURNING request_id
        """
    )


_CLAIM_NEXT = _claim_next_sql(per_site=False)
_CLAIM_NEXT_PER_SITE = _claim_next_sql(per_site=True)
_last_expiry: dict[str, float] = {}


def expire_claims(session: Session, now: datetime, timeout: timedelta) -> list[str]:
    """Put claims untouched for the timeout back in the queue (audited); their ids."""
    expired = (
        session.execute(
            update(T)
            .where(
                T.c.assignee.is_not(None),
                T.c.claimed_at < now - timeout,
                T.c.status.not_in(TERMINAL),
            )
            .values(assignee=None, claimed_at=None)
            .returning(T.c.id)
        )
        .scalars()
        .all()
    )
    for request_id in expired:
        audit(session, request_id, "system", "queue.claim_expired", now)
    return list(expired)


def claim_next(
    session: Session,
    account: Worker,
    now: datetime,
    *,
    expire_after: timedelta | None = None,
    expire_every: float = 0.0,
) -> str | None:
    """Claim the most urgent unclaimed request the account may work; its id, or None.

    With `expire_after`, timed-out claims go back to the queue first (at most once every
    `expire_every` seconds per process). The caller commits; the row lock taken here is what
    makes concurrent claims safe.
    """
    if expire_after is not None:
        url = str(cast(Engine, session.get_bind()).url)
        if time.monotonic() - _last_expiry.get(url, -1e9) >= expire_every:
            _last_expiry[url] = time.monotonic()
            expire_claims(session, now, expire_after)
    teams = sorted(account.teams)
    if not teams:
        return None
    sites = account.site_list
    statement = _CLAIM_NEXT if set(sites) >= _ALL_SITES else _CLAIM_NEXT_PER_SITE
    # One round trip: the claim and its audit row (request_events, append-only) together.
    return session.execute(
        statement,
        {"user": account.id, "now": now, "teams": teams, "sites": sites, "suffix": str(ULID())},
    ).scalar_one_or_none()


def claim(
    session: Session, account: Worker, request_id: str, now: datetime, timeout: timedelta
) -> bool:
    """Claim one request picked from the list, if nobody else holds a live claim on it."""
    taken = session.execute(
        update(T)
        .where(
            T.c.id == request_id,
            T.c.status.not_in(TERMINAL),
            or_(
                T.c.assignee.is_(None),
                T.c.assignee == account.id,
                T.c.claimed_at < now - timeout,
            ),
        )
        .values(assignee=account.id, claimed_at=now)
        .returning(T.c.id)
    ).scalar_one_or_none()
    if taken:
        audit(session, request_id, account.id, "queue.claimed", now, how="picked")
    return taken is not None


def touch(session: Session, account: Worker, request_id: str, now: datetime) -> None:
    """The assignee is working on it: the claim's timeout starts again."""
    session.execute(
        update(T).where(T.c.id == request_id, T.c.assignee == account.id).values(claimed_at=now)
    )


def release(
    session: Session, account: Worker, request_id: str, now: datetime, *, anyone: bool = False
) -> bool:
    """Give a claim back to the queue (one's own; a supervisor's `anyone` releases any)."""
    mine = true() if anyone else T.c.assignee == account.id
    released = session.execute(
        update(T)
        .where(T.c.id == request_id, T.c.assignee.is_not(None), mine)
        .values(assignee=None, claimed_at=None)
        .returning(T.c.id)
    ).scalar_one_or_none()
    if released:
        audit(session, request_id, account.id, "queue.released", now)
    return released is not None


def reassign(
    session: Session, supervisor: Worker, request_id: str, to: StaffUser, now: datetime
) -> bool:
    """A supervisor gives the request to another staff member (a fresh claim for them)."""
    moved = session.execute(
        update(T)
        .where(T.c.id == request_id, T.c.status.not_in(TERMINAL))
        .values(assignee=to.id, claimed_at=now)
        .returning(T.c.id)
    ).scalar_one_or_none()
    if moved:
        audit(session, request_id, supervisor.id, "queue.reassigned", now, to=to.id)
    return moved is not None
