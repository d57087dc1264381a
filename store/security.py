"""The append-only security events table (security_events): who did what, with what outcome.

Rows carry opaque account ids, codes and counts, never PHI; the database refuses changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

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
