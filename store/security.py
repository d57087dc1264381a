"""The append-only security events table (security_events): who did what, with what outcome,
and the privacy officer's log of them.

Rows carry opaque account ids, codes and counts, never PHI; the database refuses changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlmodel import Session, col

from store.models import SecurityEvent


def record_security_event(
    session: Session,
    *,
    action: str,
    outcome: str,
    actor: str | None = None,
    client: str | None = None,
    at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one security event (in the caller's transaction)."""
    session.execute(
        insert(SecurityEvent).values(
            at=at or datetime.now(UTC),
            actor=actor,
            action=action,
            outcome=outcome,
            client=client,
            detail=detail,
        )
    )


@dataclass(frozen=True)
class EventFilter:
    """Which security events to list: an action, an outcome, an actor (an account id, or what
    was typed when it names none) and a day range (`until` included)."""

    action: str | None = None
    outcome: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None


def _events(f: EventFilter) -> Select[Any]:
    query = select(SecurityEvent)
    if f.action:
        query = query.where(col(SecurityEvent.action) == f.action)
    if f.outcome:
        query = query.where(col(SecurityEvent.outcome) == f.outcome)
    if f.actor:
        query = query.where(col(SecurityEvent.actor) == f.actor)
    if f.since:
        query = query.where(col(SecurityEvent.at) >= datetime.combine(f.since, time(), UTC))
    if f.until:
        query = query.where(
            col(SecurityEvent.at) < datetime.combine(f.until + timedelta(days=1), time(), UTC)
        )
    return query


def security_events(
    session: Session, f: EventFilter, *, offset: int, limit: int
) -> tuple[int, list[SecurityEvent]]:
    """How many events match, and one page of them, newest first."""
    query = _events(f)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = list(
        session.execute(
            query.order_by(col(SecurityEvent.at).desc(), col(SecurityEvent.id).desc())
            .offset(offset)
            .limit(limit)
        ).scalars()
    )
    return total, rows


def recorded_actions(session: Session) -> set[str]:
    """Every action a security event was recorded with."""
    return set(session.execute(select(col(SecurityEvent.action)).distinct()).scalars())
