"""Rate limits of the portal, in the staff app's table (`throttle_buckets`, store/throttle.py):
a fixed window per bucket, counted under the bucket's row lock, so every portal process (and
parallel submissions) share one count. Buckets are named by opaque labels, never an address.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlmodel import Session

from store import throttle as buckets
from store.throttle import State


def opaque(value: str) -> str:
    """A short one-way label for a value never stored or logged as is (an address, a tracking
    number); the same label the staff app uses for the same value."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def take(
    session: Session, names: list[str], limit: int, window: timedelta, now: datetime
) -> int | None:
    """One attempt in every bucket, all or none: None when it may go ahead (each counted), else
    the seconds until the fullest bucket's window ends (nothing counted). Commit before acting
    on the answer, so a refused attempt cannot slip through in a parallel request."""
    states = buckets.locked(session, names, now)
    fresh: dict[str, State] = {}
    waits: list[float] = []
    for name, state in states.items():
        started, count = state.window_started_at, state.count
        if now - started >= window or now < started:
            started, count = now, 0
        if count >= limit:
            waits.append((started + window - now).total_seconds())
        fresh[name] = State(count + 1, started, now, None)
    if waits:
        return max(1, math.ceil(max(waits)))
    for name, state in fresh.items():
        buckets.store(session, name, state)
    return None


def give_back(session: Session, names: tuple[str, ...]) -> None:
    """A right answer does not count against its buckets."""
    buckets.give_back(session, names)
