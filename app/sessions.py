"""A person's own sessions, and ending them (theirs, or anyone's by an admin).

A session is shown by its number (`staff_sessions.id`), never by its cookie's token or the
token's hash; with when it started, when it was last used, the browser and operating system it
was opened from (a summary of the User-Agent in a fixed vocabulary) and the opaque label of its
client address. Ending one deletes its row: its next request finds none and is signed out
(401, the sign-in page). Each end is an `auth.session_end` security event whose actor is the
person who ended it (detail: the account, the session's number, the reason).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlmodel import col

from app import security_log
from app.context import Forbidden
from app.security_log import Action
from store.db import session_scope
from store.web_models import StaffSession

#: Reasons of the session_end events written here.
BY_OWNER = "ended_by_owner"
BY_ADMIN = "ended_by_admin"

_BROWSERS = (  # (pattern, name): the first that matches (Edge and Opera also say Chrome)
    (re.compile(r"\bEdg(?:e|A|iOS)?/(\d+)"), "Edge"),
    (re.compile(r"\bOPR/(\d+)"), "Opera"),
    (re.compile(r"\bFirefox/(\d+)"), "Firefox"),
    (re.compile(r"\bFxiOS/(\d+)"), "Firefox"),
    (re.compile(r"\b(?:Headless)?Chrom(?:e|ium)/(\d+)"), "Chrome"),
    (re.compile(r"\bCriOS/(\d+)"), "Chrome"),
    (re.compile(r"\bVersion/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"), "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def summarize_agent(agent: str | None) -> str:
    """'Chrome 131 on Linux' from a User-Agent header: names from a fixed list and a version
    number only, so nothing a client wrote is ever shown as it wrote it."""
    text = (agent or "")[:512]
    browser = "Unknown browser"
    for pattern, name in _BROWSERS:
        found = pattern.search(text)
        if found:
            browser = f"{name} {int(found.group(1)) % 10000}"
            break
    system = next((name for marker, name in _SYSTEMS if marker in text), None)
    return f"{browser} on {system}" if system else browser


@dataclass(frozen=True)
class SessionInfo:
    """One session as its owner or an admin sees it (no secret in it)."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_summary: str
    client: str | None
    pending: bool  # the password was right, the second factor is still to come
    current: bool  # the session this page was asked for with


def _live(now: datetime, idle_minutes: int) -> ColumnElement[bool]:
    """A session that has not lapsed (lapsed rows are deleted on their next request)."""
    return and_(
        col(StaffSession.expires_at) > now,
        col(StaffSession.last_seen_at) > now - timedelta(minutes=idle_minutes),
    )


def list_sessions(
    database_url: str, user_id: str, current_hash: str | None, idle_minutes: int
) -> list[SessionInfo]:
    """The account's sessions that still work, most recently used first."""
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        rows = session.execute(
            select(StaffSession)
            .where(col(StaffSession.user_id) == user_id, _live(now, idle_minutes))
            .order_by(col(StaffSession.last_seen_at).desc(), col(StaffSession.id).desc())
        ).scalars()
        return [
            SessionInfo(
                id=row.id or 0,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
                client_summary=row.client_summary or "Unknown browser",
                client=row.client,
                pending=row.mfa_pending,
                current=row.token_hash == current_hash,
            )
            for row in rows
        ]


def session_counts(database_url: str, idle_minutes: int) -> dict[str, int]:
    """How many sessions each account has that still work (the admin accounts page)."""
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        rows = session.execute(
            select(col(StaffSession.user_id), func.count())
            .where(_live(now, idle_minutes))
            .group_by(col(StaffSession.user_id))
        ).all()
    return {user_id: n for user_id, n in rows}


def end_own_session(
    database_url: str, user_id: str, session_id: int, current_hash: str, client: str | None
) -> str:
    """End one of the person's own sessions other than this one: `ended`, `gone` (it had
    already ended) or `current` (this one: signing out is the way to end it). Forbidden if it
    is someone else's (only an admin ends those)."""
    with session_scope(database_url) as session:
        row = session.execute(
            select(col(StaffSession.user_id), col(StaffSession.token_hash))
            .where(col(StaffSession.id) == session_id)
            .with_for_update()
        ).first()
        if row is None:
            return "gone"
        owner, hashed = row
        if owner != user_id:
            raise Forbidden("You can end only your own sessions.", reason="session_of_another")
        if hashed == current_hash:
            return "current"
        session.execute(delete(StaffSession).where(col(StaffSession.id) == session_id))
        security_log.add(
            session,
            Action.SESSION_END,
            "ok",
            actor=user_id,
            client=client,
            detail={"reason": BY_OWNER, "account": owner, "session": session_id},
        )
    return "ended"


def end_sessions(
    database_url: str,
    user_id: str,
    *,
    by: str,
    keep_hash: str | None,
    client: str | None,
    reason: str,
) -> int:
    """End every session of the account except `keep_hash` (the caller's own, if it is the
    same account); one security event per session ended. Returns how many ended."""
    with session_scope(database_url) as session:
        query = delete(StaffSession).where(col(StaffSession.user_id) == user_id)
        if keep_hash:
            query = query.where(col(StaffSession.token_hash) != keep_hash)
        ended = list(session.execute(query.returning(col(StaffSession.id))).scalars())
        for session_id in sorted(ended):
            security_log.add(
                session,
                Action.SESSION_END,
                "ok",
                actor=by,
                client=client,
                detail={"reason": reason, "account": user_id, "session": session_id},
            )
    return len(ended)
