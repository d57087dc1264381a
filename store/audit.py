"""Audit rows for what staff see and do outside the workflow (views, claims, reassignments).

Rows go to `request_events`, which the database keeps append-only. The actor is the account's
opaque id; details carry codes and ids only, never PHI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session
from ulid import ULID

from store.repository import append_event


def audit(
    session: Session,
    request_id: str,
    actor: str,
    action: str,
    at: datetime,
    /,
    **detail: Any,
) -> None:
    """One audit row in the caller's transaction; its key is unique per call (every view
    counts)."""
    append_event(
        session,
        key=f"{request_id}-{action}-{ULID()}",
        request_id=request_id,
        actor=actor,
        action=action,
        at=at,
        detail=detail or None,
    )
