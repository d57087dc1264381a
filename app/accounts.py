"""Staff accounts and API tokens: creation, sign-in checks, demo seeding."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlmodel import Session, col
from ulid import ULID

from app import security_log
from app.models import ApiToken, StaffUser
from app.roles import Role
from app.security import hash_password, needs_rehash, new_token, password_problem, token_hash
from app.security import verify_password as _verify
from app.security_log import Action
from domain.types import Site
from store.db import session_scope
from store.tables import table_of

ALL_SITES = "all"


class AccountError(ValueError):
    """An account could not be created or changed; the message says why (no secrets in it)."""


@dataclass(frozen=True)
class Account:
    """A signed-in staff member, as the routes see them."""

    id: str
    username: str
    role: str
    sites: frozenset[str] | None  # None: every site

    def covers(self, site: str) -> bool:
        """True when the account may see requests of this site."""
        return self.sites is None or site in self.sites

    @property
    def site_list(self) -> list[str]:
        """The account's sites, every site spelled out when unrestricted."""
        return sorted(self.sites) if self.sites is not None else [s.value for s in Site]


def account_of(user: StaffUser) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        role=user.role,
        sites=None if user.all_sites else frozenset(user.sites),
    )


def _normalize_sites(sites: Iterable[str] | str) -> tuple[list[str], bool]:
    if isinstance(sites, str):
        sites = [sites]
    chosen = [s.strip().lower() for s in sites if s and s.strip()]
    if ALL_SITES in chosen or "*" in chosen:
        return [], True
    if not chosen:
        raise AccountError("Give at least one site (or 'all').")
    valid = {s.value for s in Site}
    unknown = [s for s in chosen if s not in valid]
    if unknown:
        raise AccountError(f"Unknown site; use one of: {', '.join(sorted(valid))}, or all.")
    return sorted(set(chosen)), False


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not (3 <= len(name) <= 64) or not all(c.isalnum() or c in "._-" for c in name):
        raise AccountError("A username is 3-64 letters, digits, dots, dashes or underscores.")
    return name


def _check_role(role: str) -> str:
    try:
        return Role(role).value
    except ValueError:
        raise AccountError(
            f"Unknown role; use one of: {', '.join(r.value for r in Role)}."
        ) from None


def create_user(
    database_url: str,
    username: str,
    password: str,
    role: str,
    sites: Iterable[str] | str = ALL_SITES,
    *,
    by: str | None = None,
) -> str:
    """Create an active account; returns its opaque id. Raises AccountError when invalid.
    `by` (an admin's account id, `cli:<user>`, `demo`) is recorded in security_events."""
    name = _check_username(username)
    role_value = _check_role(role)
    site_list, all_sites = _normalize_sites(sites)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        taken = session.execute(
            select(col(StaffUser.id)).where(col(StaffUser.username) == name)
        ).first()
        if taken:
            raise AccountError("That username is taken.")
        user_id = str(ULID()).lower()
        session.add(
            StaffUser(
                id=user_id,
                username=name,
                password_hash=hash_password(password),
                role=role_value,
                sites=site_list,
                all_sites=all_sites,
                active=True,
                created_at=now,
                password_changed_at=now,
            )
        )
        security_log.add(
            session,
            Action.ACCOUNT_CREATE,
            "ok",
            actor=by,
            detail={
                "account": user_id,
                "role": role_value,
                "sites": _sites_label(site_list, all_sites),
            },
        )
    return user_id


def _sites_label(sites: Iterable[str], all_sites: bool) -> list[str] | str:
    return ALL_SITES if all_sites else sorted(sites)


def update_user(
    database_url: str,
    user_id: str,
    *,
    role: str | None = None,
    sites: Iterable[str] | str | None = None,
    active: bool | None = None,
    password: str | None = None,
    by: str | None = None,
) -> None:
    """Change an account; any change ends its sessions. Each change (role, sites,
    deactivation, password) and the sessions ended are security events, with `by`."""
    from app.models import StaffSession

    values: dict[str, object] = {}
    if role is not None:
        values["role"] = _check_role(role)
    if sites is not None:
        values["sites"], values["all_sites"] = _normalize_sites(sites)
    if active is not None:
        values["active"] = active
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        values["password_hash"] = hash_password(password)
        values["password_changed_at"] = datetime.now(UTC)
    if not values:
        return
    with session_scope(database_url) as session:
        before = session.execute(
            select(
                col(StaffUser.role),
                col(StaffUser.sites),
                col(StaffUser.all_sites),
                col(StaffUser.active),
            )
            .where(col(StaffUser.id) == user_id)
            .with_for_update()
        ).first()
        if before is None:
            raise AccountError("No such account.")
        session.execute(update(StaffUser).where(col(StaffUser.id) == user_id).values(**values))
        ended = 0
        if active is False or password is not None or role is not None or sites is not None:
            deleted = session.execute(
                table_of(StaffSession).delete().where(col(StaffSession.user_id) == user_id)
            )
            ended = cast(CursorResult[Any], deleted).rowcount
        _record_changes(session, user_id, tuple(before), values, by, ended)


def _record_changes(
    session: Session,
    user_id: str,
    before: tuple[str, list[str], bool, bool],
    values: dict[str, object],
    by: str | None,
    sessions_ended: int,
) -> None:
    """The security events of one account change (only what actually changed)."""
    old_role, old_sites, old_all, was_active = before
    account = {"account": user_id}
    if "role" in values and values["role"] != old_role:
        detail = {**account, "from": old_role, "to": values["role"]}
        security_log.add(session, Action.ACCOUNT_ROLE, "ok", actor=by, detail=detail)
    if "sites" in values:
        new_sites = cast(list[str], values["sites"])
        old, new = (
            _sites_label(old_sites, old_all),
            _sites_label(new_sites, bool(values["all_sites"])),
        )
        if old != new:
            detail = {**account, "from": old, "to": new}
            security_log.add(session, Action.ACCOUNT_SITES, "ok", actor=by, detail=detail)
    if values.get("active") is False and was_active:
        security_log.add(session, Action.ACCOUNT_DEACTIVATE, "ok", actor=by, detail=account)
    if values.get("active") is True and not was_active:
        security_log.add(session, Action.ACCOUNT_REACTIVATE, "ok", actor=by, detail=account)
    if "password_hash" in values:
        security_log.add(session, Action.ACCOUNT_PASSWORD, "ok", actor=by, detail=account)
    if sessions_ended:
        detail = {**account, "reason": "account_changed", "sessions": sessions_ended}
        security_log.add(session, Action.SESSION_END, "ok", actor=by, detail=detail)


def list_users(database_url: str) -> list[StaffUser]:
    with session_scope(database_url) as session:
        rows = list(session.execute(select(StaffUser).order_by(StaffUser.username)).scalars())
        session.expunge_all()
        return rows


def count_admins(database_url: str) -> int:
    with session_scope(database_url) as session:
        return session.execute(
            select(func.count())
            .select_from(StaffUser)
            .where(col(StaffUser.role) == Role.ADMIN.value, col(StaffUser.active).is_(True))
        ).scalar_one()


def check_password(session: Session, username: str, password: str) -> StaffUser | None:
    """The active account with this username and password, else None (same cost either way)."""
    user = session.execute(
        select(StaffUser).where(col(StaffUser.username) == username.strip().lower())
    ).scalar_one_or_none()
    ok = _verify(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


# ---- demo ---------------------------------------------------------------------------------

DEMO_ACCOUNTS: tuple[tuple[str, Role], ...] = (
    ("demo.specialist", Role.SPECIALIST),
    ("demo.supervisor", Role.SUPERVISOR),
    ("demo.amendment", Role.AMENDMENT_SPECIALIST),
    ("demo.integrity", Role.DATA_INTEGRITY_SPECIALIST),
    ("demo.admin", Role.ADMIN),
)


def seed_demo_accounts(database_url: str) -> list[tuple[str, str, str]]:
    """One account per role, every site; (username, role, password) for each.

    Idempotent: an existing demo account is kept (same id, so its audit history stays) and
    given a fresh random password, which is returned; passwords never live in the source.
    """
    seeded: list[tuple[str, str, str]] = []
    for username, role in DEMO_ACCOUNTS:
        password = "-".join(secrets.token_hex(3) for _ in range(3))  # e.g. 3f9a1c-0b7e22-9d41aa
        with session_scope(database_url) as session:
            existing = session.execute(
                select(col(StaffUser.id)).where(col(StaffUser.username) == username)
            ).scalar_one_or_none()
        if existing is None:
            create_user(database_url, username, password, role.value, ALL_SITES, by="demo")
        else:
            update_user(
                database_url,
                existing,
                password=password,
                role=role.value,
                sites=ALL_SITES,
                active=True,
                by="demo",
            )
        seeded.append((username, role.value, password))
    return seeded


# ---- API tokens (systems that submit requests) ---------------------------------------------


def create_api_token(database_url: str, name: str, *, by: str | None = None) -> str:
    """A new token for an intake client; only its hash is kept, so show it once."""
    label = _check_username(name)
    token = "roi_" + new_token()
    with session_scope(database_url) as session:
        if session.execute(select(col(ApiToken.id)).where(col(ApiToken.name) == label)).first():
            raise AccountError("A token with that name exists; revoke it first.")
        session.add(
            ApiToken(
                id=str(ULID()).lower(),
                name=label,
                token_hash=token_hash(token),
                created_at=datetime.now(UTC),
            )
        )
        security_log.add(session, Action.TOKEN_CREATE, "ok", actor=by, detail={"client": label})
    return token


def revoke_api_token(database_url: str, name: str, *, by: str | None = None) -> None:
    """Revoke an intake client's token (a security event, with `by`)."""
    with session_scope(database_url) as session:
        found = session.execute(
            update(ApiToken)
            .where(col(ApiToken.name) == name.strip().lower(), col(ApiToken.revoked_at).is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        if cast(CursorResult[Any], found).rowcount == 0:
            raise AccountError("No active token with that name.")
        detail = {"client": name.strip().lower()}
        security_log.add(session, Action.TOKEN_REVOKE, "ok", actor=by, detail=detail)


@dataclass(frozen=True)
class TokenInfo:
    """An intake client's token as admins see it: never the secret, nor its hash."""

    name: str
    created_at: datetime
    revoked_at: datetime | None


def list_api_tokens(database_url: str) -> list[TokenInfo]:
    """Every intake token, active ones first, by name."""
    with session_scope(database_url) as session:
        rows = session.execute(
            select(col(ApiToken.name), col(ApiToken.created_at), col(ApiToken.revoked_at)).order_by(
                col(ApiToken.revoked_at).is_not(None), col(ApiToken.name), col(ApiToken.created_at)
            )
        ).all()
    return [TokenInfo(name, created, revoked) for name, created, revoked in rows]


def api_client_for(session: Session, token: str) -> str | None:
    """The name of the intake client holding this token, if it is valid."""
    if not token.startswith("roi_"):
        return None
    row = session.execute(
        select(col(ApiToken.name)).where(
            col(ApiToken.token_hash) == token_hash(token),
            col(ApiToken.revoked_at).is_(None),
        )
    ).scalar_one_or_none()
    return row
