"""The supervisors' board: live counts by site and specialist, the lists behind them, aging,
the breach history and each site's batch runs.

One grouped scan of the open requests gives every count (GROUPING SETS by site, by assignee
and by age band); each list is an index-ordered LIMIT query. Nothing here is PHI. The account
asking is a `Viewer` (its sites; the web app's `app.accounts.Account`); app/board.py draws the
aging chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, or_, select, tuple_
from sqlmodel import Session, col

from domain.batch import next_run, parse_batch_time
from domain.calendar import add_business_days, local_date
from domain.types import Site
from store import batch
from store.models import BoardSummary
from store.models import RecordRequest as R
from store.queue import PARKED, TERMINAL, WAITING
from store.tables import table_of
from store.web_models import StaffUser


class Viewer(Protocol):
    """The account the board is read for: only its sites matter (None: every site)."""

    @property
    def sites(self) -> frozenset[str] | None: ...


AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 8),
    ("8-14", 8, 15),
    ("15-21", 15, 22),
    ("22-30", 22, 31),
    ("31-45", 31, 46),
    ("46+", 46, None),
)

COLUMNS = ("open", "due_soon", "target_missed", "legal_risk", "breached", "waiting", "unclaimed")
LABELS = {
    "open": "Open",
    "due_soon": "Due soon",
    "target_missed": "Target missed",
    "legal_risk": "Legal at risk",
    "breached": "Breached",
    "waiting": "Waiting on requester",
    "unclaimed": "Unclaimed",
}


@dataclass
class BoardItem:
    id: str
    tracking_number: str
    kind: str
    site: str
    status: str
    due_date: date
    target_due_at: datetime | None
    received_at: datetime
    extended: bool
    assignee: str | None


@dataclass
class Board:
    sites: dict[str, dict[str, int]] = field(default_factory=dict)
    specialists: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    aging: list[tuple[str, int, int]] = field(default_factory=list)  # band, open, breached
    lists: dict[str, list[BoardItem]] = field(default_factory=dict)


@dataclass
class Conditions:
    breached: ColumnElement[bool]
    legal_risk: ColumnElement[bool]
    target_missed: ColumnElement[bool]
    due_soon: ColumnElement[bool]
    waiting: ColumnElement[bool]


def conditions(t: Any, now: datetime, due_soon_days: int, risk_business_days: int) -> Conditions:
    """The board's definitions as SQL over `t` (the requests table or the board summary, which
    share these columns); legal risk counts business days at each site."""
    cutoffs = {
        site.value: add_business_days(site, local_date(site, now), risk_business_days)
        for site in Site
    }
    risk_cutoff = case(
        *[(t.site == site, literal(day)) for site, day in cutoffs.items()],
        else_=literal(local_date(Site.MINNESOTA, now)),
    )
    breached = or_(t.breached.is_(True), t.due_at < now)
    legal_risk = and_(not_(breached), or_(t.legal_risk.is_(True), t.due_date <= risk_cutoff))
    missed = and_(not_(breached), or_(t.at_risk.is_(True), t.target_due_at < now))
    due_soon = and_(
        t.target_due_at >= now,
        t.target_due_at < now + timedelta(days=due_soon_days),
        not_(breached),
    )
    waiting = t.status.in_(WAITING)
    return Conditions(breached, legal_risk, missed, due_soon, waiting)


def _scope(account: Viewer) -> list[ColumnElement[bool]]:
    # open work only: closed and parked requests (legal clock satisfied) have no days left
    where: list[ColumnElement[bool]] = [col(R.status).not_in(TERMINAL + PARKED)]
    if account.sites is not None:
        where.append(col(R.site).in_(sorted(account.sites)))
    return where


def _numbers(c: Conditions, n: Any) -> list[Any]:
    """open, due_soon, target_missed, legal_risk, breached, waiting (COLUMNS without unclaimed)."""
    return [
        func.coalesce(func.sum(n), 0),
        func.coalesce(func.sum(n).filter(c.due_soon), 0),
        func.coalesce(func.sum(n).filter(c.target_missed), 0),
        func.coalesce(func.sum(n).filter(c.legal_risk), 0),
        func.coalesce(func.sum(n).filter(c.breached), 0),
        func.coalesce(func.sum(n).filter(c.waiting), 0),
    ]


def board_counts(
    session: Session,
    account: Viewer,
    now: datetime,
    *,
    due_soon_days: int = 3,
    risk_business_days: int = 3,
    claim_timeout: timedelta = timedelta(hours=1),
) -> Board:
    """Every count on the board: by site and age from the trigger-kept summary (a few thousand
    rows whatever the queue's size), by specialist from the claimed requests only."""
    S = table_of(BoardSummary).c
    c = conditions(S, now, due_soon_days, risk_business_days)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)  # UTC day, like received_day
    band = case(
        *[
            (S.received_day > today - timedelta(days=upper), literal(name))
            for name, _, upper in AGE_BANDS
            if upper is not None
        ],
        else_=literal(AGE_BANDS[-1][0]),
    )
    where = [S.status.not_in(PARKED)]  # the summary holds open rows; parked ones are not work
    if account.sites is not None:
        where.append(S.site.in_(sorted(account.sites)))
    inner = (
        select(
            S.site.label("site"),
            band.label("band"),
            S.n.label("n"),
            c.due_soon.label("due_soon"),
            c.target_missed.label("target_missed"),
            c.legal_risk.label("legal_risk"),
            c.breached.label("breached"),
            c.waiting.label("waiting"),
        )
        .where(*where)
        .subquery()
    )
    q = inner.c
    flags = Conditions(q.breached, q.legal_risk, q.target_missed, q.due_soon, q.waiting)
    query = select(q.site, q.band, func.grouping(q.site, q.band), *_numbers(flags, q.n)).group_by(
        func.grouping_sets(tuple_(q.site), tuple_(q.band), tuple_())
    )
    board = Board()
    bands: dict[str, tuple[int, int]] = {}
    for site, age_band, grouping, *numbers in session.execute(query):
        values = dict(zip(COLUMNS[:-1], (int(x) for x in numbers), strict=True))
        if grouping == 0b01:
            board.sites[site] = values
        elif grouping == 0b10:
            bands[age_band] = (values["open"], values["breached"])
        else:
            board.totals = values
    board.aging = [(name, *bands.get(name, (0, 0))) for name, _, _ in AGE_BANDS]
    if not board.totals:
        board.totals = dict.fromkeys(COLUMNS[:-1], 0)

    # Live claims: who holds what (a claim older than the timeout is back in the queue).
    rc = conditions(R, now, due_soon_days, risk_business_days)
    one = literal(1)
    claimed = session.execute(
        select(
            col(R.site),
            col(R.assignee),
            func.grouping(col(R.site), col(R.assignee)),
            *_numbers(rc, one),
        )
        .where(
            *_scope(account),
            col(R.assignee).is_not(None),
            col(R.claimed_at) >= now - claim_timeout,
        )
        .group_by(func.grouping_sets(tuple_(col(R.site)), tuple_(col(R.assignee)), tuple_()))
    ).all()
    held = {"": 0}
    for site, who, grouping, *numbers in claimed:
        values = dict(zip(COLUMNS[:-1], (int(x) for x in numbers), strict=True))
        if grouping == 0b01:
            held[site] = values["open"]
        elif grouping == 0b10:
            board.specialists[who] = values
        else:
            held[""] = values["open"]
    for site, values in board.sites.items():
        values["unclaimed"] = values["open"] - held.get(site, 0)
    board.totals["unclaimed"] = board.totals["open"] - held[""]
    if board.totals["unclaimed"] or not board.specialists:
        unclaimed = dict(board.totals)
        for values in board.specialists.values():
            for column in COLUMNS[:-1]:
                unclaimed[column] -= values[column]
        unclaimed.pop("unclaimed", None)
        board.specialists[""] = unclaimed
    return board


#: The period the board's breach history covers.
BREACH_PERIOD_DAYS = 30


@dataclass
class BreachHistory:
    """Breaches whose legal due date fell in the period: a breach is history, so a request
    completed (or closed) late still counts after it closed."""

    days: int
    open: int = 0  # still open (not parked) past the due date
    closed_late: int = 0  # closed after the due date

    @property
    def total(self) -> int:
        return self.open + self.closed_late


def breach_history(
    session: Session, account: Viewer, now: datetime, days: int = BREACH_PERIOD_DAYS
) -> BreachHistory:
    """Breaches of the last `days` days at the account's sites (by legal due date)."""
    status = col(R.status)
    due_at, closed_at = col(R.due_at), col(R.closed_at)
    where: list[ColumnElement[bool]] = [due_at >= now - timedelta(days=days), due_at < now]
    if account.sites is not None:
        where.append(col(R.site).in_(sorted(account.sites)))
    open_late = status.not_in(TERMINAL + PARKED)
    closed_late = and_(status.in_(TERMINAL), closed_at > due_at)
    parked_late = and_(status.in_(PARKED), col(R.breached).is_(True))  # late before it was met
    row = session.execute(
        select(
            func.count().filter(open_late),
            func.count().filter(or_(closed_late, parked_late)),
        ).where(*where)
    ).one()
    return BreachHistory(days=days, open=int(row[0]), closed_late=int(row[1]))


def board_lists(
    session: Session,
    account: Viewer,
    now: datetime,
    *,
    due_soon_days: int = 3,
    risk_business_days: int = 3,
    limit: int = 25,
) -> dict[str, list[BoardItem]]:
    """The requests behind the counts, most urgent first."""
    c = conditions(R, now, due_soon_days, risk_business_days)
    wanted = {
        "breached": (c.breached, col(R.due_at)),
        "legal_risk": (c.legal_risk, col(R.due_at)),
        "target_missed": (c.target_missed, col(R.due_at)),
        "due_soon": (c.due_soon, col(R.target_due_at)),
        "waiting": (c.waiting, col(R.due_at)),
    }
    lists: dict[str, list[BoardItem]] = {}
    for name, (condition, order) in wanted.items():
        rows = session.execute(
            select(
                col(R.id),
                col(R.tracking_number),
                col(R.kind),
                col(R.site),
                col(R.status),
                col(R.due_date),
                col(R.target_due_at),
                col(R.received_at),
                col(R.extended),
                col(StaffUser.username),
            )
            .outerjoin(StaffUser, col(StaffUser.id) == col(R.assignee))
            .where(*_scope(account), condition)
            .order_by(order, col(R.id))
            .limit(limit)
        ).all()
        lists[name] = [BoardItem(*r) for r in rows]
    return lists


@dataclass
class BatchRow:
    """A site's daily mail/CD/FedEx batch: the last run, the next one, what waits for it."""

    site: str
    last_at: datetime | None
    last_status: str | None
    last_sent: int | None
    next_at: datetime
    waiting: int


def batch_rows(
    session: Session, sites: list[str], now: datetime, batch_time: str
) -> list[BatchRow]:
    """Last and next batch run per site (next from the same rule the site's schedule uses)."""
    at = parse_batch_time(batch_time)
    last = batch.last_runs(session, sites)
    waiting = batch.waiting_counts(session, sites)
    rows = []
    for site in sites:
        run = last.get(site)
        rows.append(
            BatchRow(
                site=site,
                last_at=run.started_at if run else None,
                last_status=run.status if run else None,
                last_sent=(run.counts or {}).get("sent") if run else None,
                next_at=next_run(Site(site), now, at),
                waiting=waiting.get(site, 0),
            )
        )
    return rows
