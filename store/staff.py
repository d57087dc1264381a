"""Staff accounts, their one-time enrolment links and the intake API tokens (rows of
store/web_models.py). Passwords and tokens are hashed by the web app before they get here;
the checks (password strength, who may change what) are app/accounts.py's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlmodel import Session, col

from store.web_models import ApiToken, StaffEnrolment, StaffUser


def usernames(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Usernames of staff ids (an id that names no account is left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(
        session.execute(
            select(col(StaffUser.id), col(StaffUser.username)).where(col(StaffUser.id).in_(wanted))
        ).all()
    )


def user(session: Session, user_id: str) -> StaffUser | None:
    """The account with this id."""
    return session.get(StaffUser, user_id)


def active_users(session: Session) -> list[StaffUser]:
    """Every active account, by username (who a request may be reassigned to)."""
    return list(
        session.execute(
            select(StaffUser)
            .where(col(StaffUser.active).is_(True))
            .order_by(col(StaffUser.username))
        ).scalars()
    )


def user_by_username(session: Session, username: str) -> StaffUser | None:
    """The account with this username (as stored: trimmed, lower-case)."""
    return session.execute(
        select(StaffUser).where(col(StaffUser.username) == username)
    ).scalar_one_or_none()


def user_id_for(session: Session, username: str) -> str | None:
    """The id of the account with this username (None: no such account)."""
    return session.execute(
        select(col(StaffUser.id)).where(col(StaffUser.username) == username)
    ).scalar_one_or_none()


def all_users(session: Session) -> list[StaffUser]:
    """Every account, by username."""
    return list(session.execute(select(StaffUser).order_by(col(StaffUser.username))).scalars())


def count_active(session: Session, role: str) -> int:
    """How many active accounts have this role."""
    count: int = session.execute(
        select(func.count())
        .select_from(StaffUser)
        .where(col(StaffUser.role) == role, col(StaffUser.active).is_(True))
    ).scalar_one()
    return count


def add_user(
    session: Session,
    *,
    user_id: str,
    username: str,
    role: str,
    sites: list[str],
    all_sites: bool,
    now: datetime,
) -> None:
    """A new active account without a password (its owner sets one through a link)."""
    session.add(
        StaffUser(
            id=user_id,
            username=username,
            password_hash=None,
            role=role,
            sites=sites,
            all_sites=all_sites,
            active=True,
            created_at=now,
            password_changed_at=now,
        )
    )
    session.flush()


def locked_user(session: Session, user_id: str) -> StaffUser | None:
    """The account, locked until the transaction ends."""
    return session.execute(
        select(StaffUser).where(col(StaffUser.id) == user_id).with_for_update()
    ).scalar_one_or_none()


def locked_settings(session: Session, user_id: str) -> tuple[str, list[str], bool, bool] | None:
    """(role, sites, all sites, active) of the account, locked; None: no such account."""
    row = session.execute(
        select(
            col(StaffUser.role),
            col(StaffUser.sites),
            col(StaffUser.all_sites),
            col(StaffUser.active),
        )
        .where(col(StaffUser.id) == user_id)
        .with_for_update()
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def change_user(session: Session, user_id: str, values: dict[str, object]) -> None:
    """Set the account's role, sites, all_sites or active flag."""
    session.execute(update(StaffUser).where(col(StaffUser.id) == user_id).values(**values))


def set_password(session: Session, user_id: str, password_hash: str | None, at: datetime) -> None:
    """A new password (its argon2 hash), or none (a reset: the old one stops working)."""
    session.execute(
        update(StaffUser)
        .where(col(StaffUser.id) == user_id)
        .values(password_hash=password_hash, password_changed_at=at)
    )


def rehash_password(session: Session, user_id: str, password_hash: str) -> None:
    """The same password hashed with today's parameters (not a change of password)."""
    session.execute(
        update(StaffUser).where(col(StaffUser.id) == user_id).values(password_hash=password_hash)
    )


# ---- one-time enrolment links ----------------------------------------------------------------


def add_enrolment(
    session: Session,
    *,
    token_hash: str,
    user_id: str,
    purpose: str,
    by: str | None,
    now: datetime,
    expires_at: datetime,
) -> None:
    """A new enrolment link for the account; any older unused one stops working."""
    session.execute(
        delete(StaffEnrolment).where(
            col(StaffEnrolment.user_id) == user_id, col(StaffEnrolment.used_at).is_(None)
        )
    )
    session.add(
        StaffEnrolment(
            token_hash=token_hash,
            user_id=user_id,
            purpose=purpose,
            created_by=by,
            created_at=now,
            expires_at=expires_at,
        )
    )


def valid_enrolment(
    session: Session, token_hash: str, now: datetime, *, lock: bool = False
) -> tuple[StaffEnrolment, StaffUser] | None:
    """The unused, unexpired link with this token's hash and its active account."""
    query = (
        select(StaffEnrolment, StaffUser)
        .join(StaffUser, col(StaffUser.id) == col(StaffEnrolment.user_id))
        .where(
            col(StaffEnrolment.token_hash) == token_hash,
            col(StaffEnrolment.used_at).is_(None),
            col(StaffEnrolment.expires_at) > now,
            col(StaffUser.active).is_(True),
        )
    )
    row = session.execute(query.with_for_update() if lock else query).first()
    return None if row is None else (row[0], row[1])


def use_enrolment(session: Session, token_hash: str, now: datetime) -> None:
    """The link was used: it never works again."""
    session.execute(
        update(StaffEnrolment)
        .where(col(StaffEnrolment.token_hash) == token_hash)
        .values(used_at=now)
    )


# ---- intake API tokens -----------------------------------------------------------------------


def api_token_named(session: Session, name: str) -> bool:
    """Whether a token (live or revoked) has this client name."""
    return (
        session.execute(select(col(ApiToken.id)).where(col(ApiToken.name) == name)).first()
        is not None
    )


def add_api_token(
    session: Session, *, token_id: str, name: str, token_hash: str, now: datetime
) -> None:
    """A new intake client's token (its hash)."""
    session.add(ApiToken(id=token_id, name=name, token_hash=token_hash, created_at=now))


def revoke_api_token(session: Session, name: str, now: datetime) -> int:
    """Revoke the client's live token; how many were (0 or 1)."""
    result = session.execute(
        update(ApiToken)
        .where(col(ApiToken.name) == name, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return cast(CursorResult[Any], result).rowcount or 0


def api_tokens(session: Session) -> list[tuple[str, datetime, datetime | None]]:
    """(name, created, revoked) of every token, active ones first, by name."""
    return list(
        session.execute(
            select(col(ApiToken.name), col(ApiToken.created_at), col(ApiToken.revoked_at)).order_by(
                col(ApiToken.revoked_at).is_not(None), col(ApiToken.name), col(ApiToken.created_at)
            )
        ).all()
    )


def api_client(session: Session, token_hash: str) -> str | None:
    """The name of the client holding the live token with this hash."""
    return session.execute(
        select(col(ApiToken.name)).where(
            col(ApiToken.token_hash) == token_hash,
            col(ApiToken.revoked_at).is_(None),
        )
    ).scalar_one_or_none()
