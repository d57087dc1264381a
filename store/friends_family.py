"""Friends-and-family agreements (164.510(b)) as kept: the raw submission stored first, then
its outcome; the accepted ones read by the patient's key. SQL only; the rules are in
domain/friends_family.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Session, SQLModel, col


class FriendsFamilyAuthorization(SQLModel, table=True):
    """One agreement (PHI: the payload names the patient and the people)."""

    __tablename__ = "friends_family_authorizations"

    id: str = Field(primary_key=True, max_length=32)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    source: str = Field(max_length=16)
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    payload: Any = Field(sa_column=Column(JSONB, nullable=False))  # PHI, as received
    outcome: str = Field(default="received", max_length=16)  # received, accepted, rejected
    errors: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))
    patient_key: str | None = Field(default=None, max_length=64, index=True)
    site: str | None = Field(default=None, max_length=16)
    ends_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


def store(
    session: Session,
    *,
    authorization_id: str,
    received_at: datetime,
    source: str,
    idempotency_key: str | None,
    payload: Any,
) -> None:
    """Keep the submission as received, before anything checks it."""
    session.add(
        FriendsFamilyAuthorization(
            id=authorization_id,
            received_at=received_at,
            source=source,
            idempotency_key=idempotency_key,
            payload=payload,
        )
    )


def by_key(session: Session, idempotency_key: str) -> FriendsFamilyAuthorization | None:
    """The agreement already sent under this key (a double click)."""
    return session.execute(
        select(FriendsFamilyAuthorization).where(
            col(FriendsFamilyAuthorization.idempotency_key) == idempotency_key
        )
    ).scalar_one_or_none()


def mark(
    session: Session,
    authorization_id: str,
    *,
    outcome: str,
    errors: list[dict[str, Any]] | None = None,
    patient_key: str | None = None,
    site: str | None = None,
    ends_on: date | None = None,
) -> None:
    """Its outcome once checked (accepted: indexed by the patient's key)."""
    session.execute(
        update(FriendsFamilyAuthorization)
        .where(col(FriendsFamilyAuthorization.id) == authorization_id)
        .values(outcome=outcome, errors=errors, patient_key=patient_key, site=site, ends_on=ends_on)
    )


def revoke(session: Session, authorization_id: str, patient_key: str, at: datetime) -> bool:
    """End an agreement of this patient now (the patient asked); False when it is not theirs or
    was already ended."""
    done = session.execute(
        update(FriendsFamilyAuthorization)
        .where(
            col(FriendsFamilyAuthorization.id) == authorization_id,
            col(FriendsFamilyAuthorization.patient_key) == patient_key,
            col(FriendsFamilyAuthorization.revoked_at).is_(None),
        )
        .values(revoked_at=at)
    )
    return bool(getattr(done, "rowcount", 0))


def active_for_patient(
    session: Session, patient_key: str, today: date
) -> list[FriendsFamilyAuthorization]:
    """The patient's accepted agreements in force today, newest first."""
    rows = session.execute(
        select(FriendsFamilyAuthorization)
        .where(
            col(FriendsFamilyAuthorization.patient_key) == patient_key,
            col(FriendsFamilyAuthorization.outcome) == "accepted",
            col(FriendsFamilyAuthorization.revoked_at).is_(None),
            or_(
                col(FriendsFamilyAuthorization.ends_on).is_(None),
                col(FriendsFamilyAuthorization.ends_on) >= today,
            ),
        )
        .order_by(col(FriendsFamilyAuthorization.received_at).desc())
    )
    found = list(rows.scalars().all())
    for row in found:
        session.expunge(row)
    return found
