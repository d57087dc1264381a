"""Throttle buckets in PostgreSQL (`throttle_buckets`), shared by every web worker process.

A bucket is read and changed only under its row lock, in the caller's transaction, so parallel
attempts are counted one by one (app/throttle.py decides what each attempt may do).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session

from store.tables import table_of
from store.web_models import ThrottleBucket


@dataclass(frozen=True)
class State:
    """A bucket's row."""

    count: int
    window_started_at: datetime
    last_at: datetime
    blocked_until: datetime | None


def locked(session: Session, buckets: list[str], now: datetime) -> dict[str, State]:
    """The buckets' rows, created when missing, locked (in name order: no deadlock) until the
    transaction ends."""
    table = table_of(ThrottleBucket)
    ordered = sorted(set(buckets))
    session.execute(
        pg_insert(table)
        .values(
            [{"bucket": b, "count": 0, "window_started_at": now, "last_at": now} for b in ordered]
        )
        .on_conflict_do_nothing(index_elements=["bucket"])
    )
    rows = session.execute(
        select(
            table.c.bucket,
            table.c.count,
            table.c.window_started_at,
            table.c.last_at,
            table.c.blocked_until,
        )
        .where(table.c.bucket.in_(ordered))
        .order_by(table.c.bucket)
        .with_for_update()
    ).all()
    return {b: State(n, started, last, until) for b, n, started, last, until in rows}


def store(session: Session, bucket: str, state: State) -> None:
    """The bucket's new state (its row is locked by `locked`)."""
    table = table_of(ThrottleBucket)
    session.execute(
        update(table)
        .where(table.c.bucket == bucket)
        .values(
            count=state.count,
            window_started_at=state.window_started_at,
            last_at=state.last_at,
            blocked_until=state.blocked_until,
        )
    )


def forget(session: Session, buckets: tuple[str, ...]) -> None:
    """Drop these buckets (their count starts again from nothing)."""
    table = table_of(ThrottleBucket)
    session.execute(delete(table).where(table.c.bucket.in_(buckets)))


def give_back(session: Session, buckets: tuple[str, ...]) -> None:
    """One attempt fewer in each of these buckets (never below none)."""
    table = table_of(ThrottleBucket)
    session.execute(
        update(table)
        .where(table.c.bucket.in_(buckets))
        .values(count=func.greatest(table.c.count - 1, 0))
    )


def blocked_until(session: Session, bucket: str) -> datetime | None:
    """Until when the bucket must wait (a read; no lock, no attempt taken)."""
    table = table_of(ThrottleBucket)
    until: datetime | None = session.execute(
        select(table.c.blocked_until).where(table.c.bucket == bucket)
    ).scalar_one_or_none()
    return until


def remove(session: Session, bucket: str) -> tuple[int, datetime | None] | None:
    """Drop the bucket; (its count, until when it had to wait), or None when there was none."""
    table = table_of(ThrottleBucket)
    row = session.execute(
        delete(table)
        .where(table.c.bucket == bucket)
        .returning(table.c.count, table.c.blocked_until)
    ).first()
    return None if row is None else (row[0], row[1])


def prune(session: Session, now: datetime, older_than: timedelta = timedelta(days=1)) -> None:
    """Forget buckets nobody used for a while (and not waiting)."""
    table = table_of(ThrottleBucket)
    session.execute(
        delete(table).where(
            table.c.last_at < now - older_than,
            func.coalesce(table.c.blocked_until, table.c.last_at) < now - older_than,
        )
    )
