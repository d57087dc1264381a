"""Staff accounts and API tokens: creation, sign-in checks, demo seeding."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlmodel import Session
from ulid import ULID

from app import security_log
from app.passwords import password_problem
from app.roles import Role, teams_of
from app.security import hash_password, needs_rehash, new_token, token_hash
from app.security import verify_password as _verify
from app.security_log import Action
from domain.types import Site
from store import staff, staff_sessions
from store.db import session_scope
from store.web_models import StaffUser

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

    @property
    def teams(self) -> frozenset[str]:
        """The teams whose requests the account's role works (store/queue.py's `Worker`)."""
        return teams_of(self.role)


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


#: How long an enrolment link works (a new account's, or after a reset).
ENROLMENT_HOURS = 72


class EnrolmentInvalid(AccountError):
    """The enrolment link is unknown, used, expired, or its account is inactive."""


@dataclass(frozen=True)
class Enrolment:
    """A one-time link for a person to set their own password. The token exists only here
    (the database keeps its hash): show it once."""

    user_id: str
    username: str
    token: str
    expires_at: datetime

    def link(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/enrol/{self.token}"


def _issue(
    session: Session, user_id: str, purpose: str, by: str | None, hours: int, now: datetime
) -> tuple[str, datetime]:
    """A new enrolment token for the account (any older unused one stops working)."""
    token = new_token()
    expires = now + timedelta(hours=hours)
    staff.add_enrolment(
        session,
        token_hash=token_hash(token),
        user_id=user_id,
        purpose=purpose,
        by=by,
        now=now,
        expires_at=expires,
    )
    detail = {"account": user_id, "purpose": purpose, "hours": hours}
    security_log.add(session, Action.ENROLMENT_ISSUE, "ok", actor=by, detail=detail)
    return token, expires


def create_user(
    database_url: str,
    username: str,
    role: str,
    sites: Iterable[str] | str = ALL_SITES,
    *,
    by: str | None = None,
    hours: int = ENROLMENT_HOURS,
) -> Enrolment:
    """Create an active account without a password, and the one-time link with which its
    owner sets one. Raises AccountError when invalid. `by` (an admin's account id,
    `cli:<user>`, `demo`) is recorded in security_events; nobody but the owner ever knows
    the password."""
    name = _check_username(username)
    role_value = _check_role(role)
    site_list, all_sites = _normalize_sites(sites)
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        if staff.user_id_for(session, name) is not None:
            raise AccountError("That username is taken.")
        user_id = str(ULID()).lower()
        staff.add_user(
            session,
            user_id=user_id,
            username=name,
            role=role_value,
            sites=site_list,
            all_sites=all_sites,
            now=now,
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
        token, expires = _issue(session, user_id, "new", by, hours, now)
    return Enrolment(user_id, name, token, expires)


def reset_credentials(
    database_url: str, user_id: str, *, by: str | None = None, hours: int = ENROLMENT_HOURS
) -> Enrolment:
    """An admin's reset: the account's password (and second factor) stop working at once, its
    sessions end, and a new one-time link lets its owner set new ones."""
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        user = staff.locked_user(session, user_id)
        if user is None:
            raise AccountError("No such account.")
        name = user.username
        staff.set_password(session, user_id, None, now)
        _forget_second_factor(session, user_id)
        ended = len(staff_sessions.remove_all_of(session, user_id))
        account = {"account": user_id}
        security_log.add(session, Action.ACCOUNT_RESET, "ok", actor=by, detail=account)
        if ended:
            detail = {**account, "reason": "credentials_reset", "sessions": ended}
            security_log.add(session, Action.SESSION_END, "ok", actor=by, detail=detail)
        token, expires = _issue(session, user_id, "reset", by, hours, now)
    return Enrolment(user_id, name, token, expires)


def _forget_second_factor(session: Session, user_id: str) -> None:
    """A reset also drops the account's second factor (enrolled again after the password)."""
    from app import mfa

    mfa.forget(session, user_id)


def enrolment_username(database_url: str, token: str) -> str | None:
    """The username a valid enrolment link is for (None: unknown, used or expired)."""
    if not token or len(token) > 128:
        return None
    with session_scope(database_url) as session:
        found = staff.valid_enrolment(session, token_hash(token), datetime.now(UTC))
        return found[1].username if found else None


def complete_enrolment(
    database_url: str, token: str, password: str, *, client: str | None = None
) -> str:
    """Set the password of the link's account and use the link up; returns the account id.
    EnrolmentInvalid when the link does not work (any more); AccountError (the link still
    works) when the password is not acceptable."""
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        found = (
            staff.valid_enrolment(session, token_hash(token), now, lock=True)
            if len(token) <= 128
            else None
        )
        if found is None:
            security_log.add(
                session,
                Action.ACCOUNT_PASSWORD,
                "refused",
                client=client,
                detail={"how": "enrolment", "reason": "link_invalid"},
            )
            raise EnrolmentInvalid(
                "This link does not work any more. Ask an administrator for a new one."
            )
        enrolment, user = found
        problem = password_problem(password, username=user.username)
        if problem:
            raise AccountError(problem)
        staff.set_password(session, user.id, hash_password(password), now)
        staff.use_enrolment(session, enrolment.token_hash, now)
        security_log.add(
            session,
            Action.ACCOUNT_PASSWORD,
            "ok",
            actor=user.id,
            client=client,
            detail={"account": user.id, "how": "enrolment", "purpose": enrolment.purpose},
        )
        return user.id


def change_password(
    database_url: str,
    user_id: str,
    current: str,
    new: str,
    *,
    keep_session: str | None = None,
    client: str | None = None,
) -> None:
    """A signed-in person changes their own password (the current one first); their other
    sessions end. AccountError with a plain message when refused."""
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        user = staff.locked_user(session, user_id)
        if user is None or not _verify(user.password_hash, current):
            security_log.add(
                session,
                Action.ACCOUNT_PASSWORD,
                "refused",
                actor=user_id,
                client=client,
                detail={"account": user_id, "how": "change", "reason": "wrong_current"},
            )
            raise AccountError("Your current password is not right.")
        problem = password_problem(new, username=user.username)
        if problem:
            raise AccountError(problem)
        if _verify(user.password_hash, new):
            raise AccountError("Choose a password other than your current one.")
        staff.set_password(session, user_id, hash_password(new), now)
        ended = len(staff_sessions.remove_all_of(session, user_id, keep_hash=keep_session))
        account = {"account": user_id}
        security_log.add(
            session,
            Action.ACCOUNT_PASSWORD,
            "ok",
            actor=user_id,
            client=client,
            detail={**account, "how": "change"},
        )
        if ended:
            detail = {**account, "reason": "password_changed", "sessions": ended}
            security_log.add(session, Action.SESSION_END, "ok", actor=user_id, detail=detail)


def _sites_label(sites: Iterable[str], all_sites: bool) -> list[str] | str:
    return ALL_SITES if all_sites else sorted(sites)


def update_user(
    database_url: str,
    user_id: str,
    *,
    role: str | None = None,
    sites: Iterable[str] | str | None = None,
    active: bool | None = None,
    by: str | None = None,
) -> None:
    """Change an account; any change ends its sessions. Each change (role, sites,
    deactivation) and the sessions ended are security events, with `by`. Passwords are not
    changed here: only their owner sets one (complete_enrolment, change_password)."""
    values: dict[str, object] = {}
    if role is not None:
        values["role"] = _check_role(role)
    if sites is not None:
        values["sites"], values["all_sites"] = _normalize_sites(sites)
    if active is not None:
        values["active"] = active
    if not values:
        return
    with session_scope(database_url) as session:
        before = staff.locked_settings(session, user_id)
        if before is None:
            raise AccountError("No such account.")
        staff.change_user(session, user_id, values)
        ended = 0
        if active is False or role is not None or sites is not None:
            ended = len(staff_sessions.remove_all_of(session, user_id))
        _record_changes(session, user_id, before, values, by, ended)


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
    if sessions_ended:
        detail = {**account, "reason": "account_changed", "sessions": sessions_ended}
        security_log.add(session, Action.SESSION_END, "ok", actor=by, detail=detail)


def list_users(session: Session) -> list[StaffUser]:
    """Every account, by username."""
    return staff.all_users(session)


def count_admins(session: Session) -> int:
    """How many active administrators there are."""
    return staff.count_active(session, Role.ADMIN.value)


def check_password(session: Session, username: str, password: str) -> StaffUser | None:
    """The active account with this username and password, else None (same cost either way)."""
    user = staff.user_by_username(session, username.strip().lower())
    ok = _verify(user.password_hash if user else None, password)
    if not ok or user is None or not user.active or user.password_hash is None:
        return None
    if needs_rehash(user.password_hash):
        staff.rehash_password(session, user.id, hash_password(password))
    return user


# ---- demo ---------------------------------------------------------------------------------

DEMO_ACCOUNTS: tuple[tuple[str, Role], ...] = (
    ("demo.specialist", Role.SPECIALIST),
    ("demo.supervisor", Role.SUPERVISOR),
    ("demo.amendment", Role.AMENDMENT_SPECIALIST),
    ("demo.integrity", Role.DATA_INTEGRITY_SPECIALIST),
    ("demo.admin", Role.ADMIN),
    ("demo.privacy", Role.PRIVACY_OFFICER),
)


def _local_only() -> None:
    from config.settings import Environment, get_settings

    if get_settings().env not in (Environment.LOCAL, Environment.TEST):
        raise AccountError("Only the local demo and the tests enrol accounts themselves.")


def enrol_locally(
    database_url: str,
    username: str,
    password: str,
    role: str,
    sites: Iterable[str] | str = ALL_SITES,
    *,
    by: str = "demo",
    totp_secret: str | None = None,
) -> str:
    """ROI_ENV local or test only: create the account (or reset an existing one, keeping its
    id and audit history) and follow its enrolment link at once, as its owner would; with
    `totp_secret`, its second factor is enrolled with that secret (the demo prints it, the
    tests compute codes from it). Returns the account id. Anywhere else it refuses: there,
    only the person sets their password and second factor."""
    _local_only()
    name = _check_username(username)
    with session_scope(database_url) as session:
        existing = staff.user_id_for(session, name)
    if existing is None:
        enrolment = create_user(database_url, name, role, sites, by=by)
    else:
        update_user(database_url, existing, role=role, sites=sites, active=True, by=by)
        enrolment = reset_credentials(database_url, existing, by=by)
    user_id = complete_enrolment(database_url, enrolment.token, password)
    if totp_secret is not None:
        from app import mfa
        from config.settings import get_settings

        with session_scope(database_url) as session:
            mfa.enrol_known_secret(session, user_id, totp_secret, get_settings().payload_keys)
            security_log.add(
                session, Action.MFA, "enrolled", actor=user_id, detail={"by": by, "factor": "totp"}
            )
    return user_id


def seed_demo_accounts(database_url: str) -> list[tuple[str, str, str, str]]:
    """One account per role, every site; (username, role, password, TOTP secret) for each
    (ROI_ENV local or test only).

    Idempotent: an existing demo account is kept (same id, so its audit history stays) and
    given a fresh random password and TOTP secret, which are returned; neither lives in the
    source.
    """
    from app import mfa

    seeded: list[tuple[str, str, str, str]] = []
    for username, role in DEMO_ACCOUNTS:
        password = "-".join(secrets.token_hex(3) for _ in range(3))  # e.g. 3f9a1c-0b7e22-9d41aa
        secret = mfa.new_secret()
        enrol_locally(database_url, username, password, role.value, ALL_SITES, totp_secret=secret)
        seeded.append((username, role.value, password, secret))
    return seeded


# ---- API tokens (systems that submit requests) ---------------------------------------------


def create_api_token(database_url: str, name: str, *, by: str | None = None) -> str:
    """A new token for an intake client; only its hash is kept, so show it once."""
    label = _check_username(name)
    token = "roi_" + new_token()
    with session_scope(database_url) as session:
        if staff.api_token_named(session, label):
            raise AccountError("A token with that name exists; revoke it first.")
        staff.add_api_token(
            session,
            token_id=str(ULID()).lower(),
            name=label,
            token_hash=token_hash(token),
            now=datetime.now(UTC),
        )
        security_log.add(session, Action.TOKEN_CREATE, "ok", actor=by, detail={"client": label})
    return token


def revoke_api_token(database_url: str, name: str, *, by: str | None = None) -> None:
    """Revoke an intake client's token (a security event, with `by`)."""
    with session_scope(database_url) as session:
        if staff.revoke_api_token(session, name.strip().lower(), datetime.now(UTC)) == 0:
            raise AccountError("No active token with that name.")
        detail = {"client": name.strip().lower()}
        security_log.add(session, Action.TOKEN_REVOKE, "ok", actor=by, detail=detail)


@dataclass(frozen=True)
class TokenInfo:
    """An intake client's token as admins see it: never the secret, nor its hash."""

    name: str
    created_at: datetime
    revoked_at: datetime | None


def list_api_tokens(session: Session) -> list[TokenInfo]:
    """Every intake token, active ones first, by name."""
    return [
        TokenInfo(name, created, revoked) for name, created, revoked in staff.api_tokens(session)
    ]


def api_client_for(session: Session, token: str) -> str | None:
    """The name of the intake client holding this token, if it is valid."""
    if not token.startswith("roi_"):
        return None
    return staff.api_client(session, token_hash(token))
