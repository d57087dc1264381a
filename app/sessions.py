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
from datetime import UTC, datetime

from sqlmodel import Session

from app import security_log
from app.context import Forbidden
from app.security_log import Action
from store import staff_sessions

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


def list_sessions(
    session: Session, user_id: str, current_hash: str | None, idle_minutes: int
) -> list[SessionInfo]:
    """The account's sessions that still work, most recently used first."""
    rows = staff_sessions.live_sessions(session, user_id, datetime.now(UTC), idle_minutes)
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


def session_counts(session: Session, idle_minutes: int) -> dict[str, int]:
    """How many sessions each account has that still work (the admin accounts page)."""
    return staff_sessions.live_counts(session, datetime.now(UTC), idle_minutes)


def end_own_session(
    session: Session, user_id: str, session_id: int, current_hash: str, client: str | None
) -> str:
    """End one of the person's own sessions other than this one: `ended`, `gone` (it had
    already ended) or `current` (this one: signing out is the way to end it). Forbidden if it
    is someone else's (only an admin ends those)."""
    row = staff_sessions.locked_owner(session, session_id)
    if row is None:
        return "gone"
    owner, hashed = row
    if owner != user_id:
        raise Forbidden("You can end only your own sessions.", reason="session_of_another")
    if hashed == current_hash:
        return "current"
    staff_sessions.remove_by_number(session, session_id)
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
    session: Session,
    user_id: str,
    *,
    by: str,
    keep_hash: str | None,
    client: str | None,
    reason: str,
) -> int:
    """End every session of the account except `keep_hash` (the caller's own, if it is the
    same account); one security event per session ended. Returns how many ended."""
    ended = staff_sessions.remove_all_of(session, user_id, keep_hash=keep_hash)
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
