"""Signed-in browsers (`staff_sessions`): only a hash of each cookie's token is stored, with
the account, the session's CSRF token, its expiry, a one-time message and what its owner sees
of it on /account/sessions. Every function runs in the caller's transaction; app/auth.py and
app/sessions.py decide when a session starts, lapses or ends."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlmodel import Session, col

from store.web_models import StaffSession, StaffUser


def add_session(
    session: Session,
    *,
    token_hash: str,
    user_id: str,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
    pending: bool,
    client: str | None,
    client_summary: str | None,
) -> None:
    """A new session row (its token's hash; the token itself is the browser's only)."""
    session.add(
        StaffSession(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            mfa_pending=pending,
            client=client,
            client_summary=client_summary,
        )
    )


def with_account(session: Session, token_hash: str) -> tuple[StaffSession, StaffUser] | None:
    """The session with this token's hash and its account, if there is one."""
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, col(StaffUser.id) == col(StaffSession.user_id))
        .where(col(StaffSession.token_hash) == token_hash)
    ).first()
    return None if row is None else (row[0], row[1])


def remove(session: Session, token_hash: str) -> str | None:
    """End the session with this token's hash; the account it was of (None: there was none)."""
    return session.execute(
        delete(StaffSession)
        .where(col(StaffSession.token_hash) == token_hash)
        .returning(col(StaffSession.user_id))
    ).scalar_one_or_none()


def touch(session: Session, token_hash: str, now: datetime) -> None:
    """The session was used now (its idle expiry starts again)."""
    session.execute(
        update(StaffSession)
        .where(col(StaffSession.token_hash) == token_hash)
        .values(last_seen_at=now)
    )


def set_flash(session: Session, token_hash: str, flash: dict[str, Any] | None) -> None:
    """The one-time message the session's next page shows (None: it was shown)."""
    session.execute(
        update(StaffSession).where(col(StaffSession.token_hash) == token_hash).values(flash=flash)
    )


def _live(now: datetime, idle_minutes: int) -> ColumnElement[bool]:
    """A session that has not lapsed (lapsed rows are deleted on their next request)."""
    return and_(
        col(StaffSession.expires_at) > now,
        col(StaffSession.last_seen_at) > now - timedelta(minutes=idle_minutes),
    )


def live_sessions(
    session: Session, user_id: str, now: datetime, idle_minutes: int
) -> list[StaffSession]:
    """The account's sessions that still work, most recently used first."""
    return list(
        session.execute(
            select(StaffSession)
            .where(col(StaffSession.user_id) == user_id, _live(now, idle_minutes))
            .order_by(col(StaffSession.last_seen_at).desc(), col(StaffSession.id).desc())
        ).scalars()
    )


def live_counts(session: Session, now: datetime, idle_minutes: int) -> dict[str, int]:
    """How many sessions that still work each account has."""
    rows = session.execute(
        select(col(StaffSession.user_id), func.count())
        .where(_live(now, idle_minutes))
        .group_by(col(StaffSession.user_id))
    ).all()
    return {user_id: n for user_id, n in rows}


def locked_owner(session: Session, session_id: int) -> tuple[str, str] | None:
    """(account id, token hash) of the session with this number, locked; None: it ended."""
    row = session.execute(
        select(col(StaffSession.user_id), col(StaffSession.token_hash))
        .where(col(StaffSession.id) == session_id)
        .with_for_update()
    ).first()
    return None if row is None else (row[0], row[1])


def remove_by_number(session: Session, session_id: int) -> None:
    """End the session with this number."""
    session.execute(delete(StaffSession).where(col(StaffSession.id) == session_id))


def remove_all_of(session: Session, user_id: str, *, keep_hash: str | None = None) -> list[int]:
    """End every session of the account but `keep_hash`'s; the numbers of those ended."""
    query = delete(StaffSession).where(col(StaffSession.user_id) == user_id)
    if keep_hash:
        query = query.where(col(StaffSession.token_hash) != keep_hash)
    return [n for n in session.execute(query.returning(col(StaffSession.id))).scalars() if n]
