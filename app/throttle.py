"""Counting failed attempts per bucket in PostgreSQL (shared by every web worker process)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session, col

from app.models import ThrottleHit


def failures(session: Session, bucket: str, since: datetime) -> int:
    """Failed attempts recorded in the bucket since `since`."""
    return session.execute(
        select(func.count())
        .select_from(ThrottleHit)
        .where(col(ThrottleHit.bucket) == bucket, col(ThrottleHit.at) >= since)
    ).scalar_one()


def too_many(session: Session, buckets: dict[str, int], now: datetime, window: timedelta) -> bool:
    """True when any bucket has reached its limit within the window."""
    since = now - window
    return any(failures(session, bucket, since) >= limit for bucket, limit in buckets.items())


def record_failure(session: Session, buckets: list[str], now: datetime) -> None:
    """One failed attempt in each bucket; rows older than a day are pruned now and then."""
    session.execute(insert(ThrottleHit), [{"bucket": b, "at": now} for b in buckets])
    if now.second == 0:  # cheap, occasional housekeeping
        session.execute(delete(ThrottleHit).where(col(ThrottleHit.at) < now - timedelta(days=1)))


def clear(session: Session, bucket: str) -> None:
    """Forget a bucket's failures (after a successful sign-in)."""
    session.execute(delete(ThrottleHit).where(col(ThrottleHit.bucket) == bucket))
