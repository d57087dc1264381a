"""Tables of the staff web app: accounts, server-side sessions, second factors, throttles and
API tokens (migration 0003_staff_web and later). Their rows are read and written by the store's
modules (store/staff.py, store/staff_sessions.py, store/mfa.py, store/throttle.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    String,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = True, **kw: Any) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, **kw))


class StaffUser(SQLModel, table=True):
    """A staff account. The id (a ULID) is the opaque actor recorded on every audit row."""

    __tablename__ = "staff_users"

    id: str = Field(primary_key=True, max_length=32)
    username: str = Field(max_length=64, unique=True)
    # argon2id, with its parameters and salt; None until the owner enrols (app/accounts.py)
    password_hash: str | None = Field(default=None, max_length=255)
    role: str = Field(max_length=32)
    sites: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(16)), nullable=False)
    )
    all_sites: bool = False
    active: bool = True
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    password_changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class StaffSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "staff_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=32, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    flash: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))
    # a password alone: good only for entering the second factor (app/routes/mfa.py)
    mfa_pending: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # the session's number: the non-secret label it is shown and ended by (/account/sessions)
    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), unique=True, nullable=False)
    )
    client: str | None = Field(default=None, max_length=64)  # opaque label of the address
    client_summary: str | None = Field(default=None, max_length=64)  # "Chrome 131 on Linux"


class StaffEnrolment(SQLModel, table=True):
    """A one-time link with which a person sets their own password: for a new account
    (`new`) or after an admin reset it (`reset`). Only the token's hash is kept."""

    __tablename__ = "staff_enrolments"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=32, index=True)
    purpose: str = Field(max_length=16)
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = _ts()


class StaffMfa(SQLModel, table=True):
    """A staff member's TOTP second factor: the secret sealed (app/mfa.py), confirmed once a
    code from it was entered, and the last time step accepted (a code works once)."""

    __tablename__ = "staff_mfa"

    user_id: str = Field(primary_key=True, max_length=32)
    sealed_secret: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    confirmed_at: datetime | None = _ts()
    last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class StaffRecoveryCode(SQLModel, table=True):
    """A single-use recovery code (for a lost authenticator); only its hash is kept."""

    __tablename__ = "staff_recovery_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=32, index=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = _ts()


class ThrottleHit(SQLModel, table=True):
    """One failed attempt (sign-in, status lookup) in a throttle bucket; old rows are pruned."""

    __tablename__ = "throttle_hits"
    __table_args__ = (Index("ix_throttle_hits_bucket_at", "bucket", "at"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    bucket: str = Field(max_length=128)  # e.g. login:user:<name>, status:ip:<hash>
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ThrottleBucket(SQLModel, table=True):
    """One throttled key (a sign-in account, a client address, an intake token): how many
    attempts it made since `window_started_at`, and until when it must wait. Updated only
    under a row lock (app/throttle.py), so parallel attempts are counted one by one."""

    __tablename__ = "throttle_buckets"

    bucket: str = Field(primary_key=True, max_length=128)  # e.g. login:user:<hash>
    count: int = 0
    window_started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    blocked_until: datetime | None = _ts()


class ApiToken(SQLModel, table=True):
    """A credential for a system that submits requests (the patient portal, a fax gateway)."""

    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=64, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = _ts()
