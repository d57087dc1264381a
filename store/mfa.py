"""Staff second factors (`staff_mfa`: the sealed TOTP secret, when it was confirmed, the last
time step accepted) and single-use recovery codes (`staff_recovery_codes`, their hashes only).
Sealing, codes and their checks are app/mfa.py's; every function here runs in the caller's
transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from store.web_models import StaffMfa, StaffRecoveryCode


def factor(session: Session, user_id: str, *, lock: bool = False) -> StaffMfa | None:
    """The account's second factor (locked until the transaction ends with `lock`)."""
    query = select(StaffMfa).where(col(StaffMfa.user_id) == user_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def add_factor(
    session: Session,
    user_id: str,
    sealed_secret: str,
    now: datetime,
    *,
    confirmed_at: datetime | None = None,
) -> None:
    """A second factor for the account (unconfirmed until a first code from it is entered)."""
    session.add(
        StaffMfa(
            user_id=user_id,
            sealed_secret=sealed_secret,
            created_at=now,
            confirmed_at=confirmed_at,
        )
    )


def accept_step(
    session: Session, user_id: str, step: int, *, confirmed_at: datetime | None = None
) -> None:
    """A code of this time step was accepted (no code of it or before works again); with
    `confirmed_at`, the factor's setup is confirmed."""
    values: dict[str, object] = {"last_step": step}
    if confirmed_at is not None:
        values["confirmed_at"] = confirmed_at
    session.execute(update(StaffMfa).where(col(StaffMfa.user_id) == user_id).values(**values))


def replace_recovery_codes(
    session: Session, user_id: str, code_hashes: list[str], now: datetime
) -> None:
    """The account's recovery codes are these (their hashes); the old ones stop working."""
    session.execute(delete(StaffRecoveryCode).where(col(StaffRecoveryCode.user_id) == user_id))
    for code_hash in code_hashes:
        session.add(StaffRecoveryCode(code_hash=code_hash, user_id=user_id, created_at=now))


def use_recovery_code(session: Session, user_id: str, code_hash: str, now: datetime) -> bool:
    """Use up the account's unused recovery code with this hash; whether there was one."""
    used = session.execute(
        update(StaffRecoveryCode)
        .where(
            col(StaffRecoveryCode.user_id) == user_id,
            col(StaffRecoveryCode.code_hash) == code_hash,
            col(StaffRecoveryCode.used_at).is_(None),
        )
        .values(used_at=now)
        .returning(col(StaffRecoveryCode.code_hash))
    ).first()
    return used is not None


def recovery_codes_left(session: Session, user_id: str) -> int:
    """How many of the account's recovery codes are unused."""
    rows = session.execute(
        select(col(StaffRecoveryCode.code_hash)).where(
            col(StaffRecoveryCode.user_id) == user_id, col(StaffRecoveryCode.used_at).is_(None)
        )
    ).all()
    return len(rows)


def forget(session: Session, user_id: str) -> None:
    """Drop the account's second factor and recovery codes."""
    session.execute(delete(StaffMfa).where(col(StaffMfa.user_id) == user_id))
    session.execute(delete(StaffRecoveryCode).where(col(StaffRecoveryCode.user_id) == user_id))
