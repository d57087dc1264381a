"""The portal's own rows: one-time email codes (only their salted hashes), the sealed PDFs
of e-signed authorizations and the documents requesters uploaded (re-encoded by the portal,
encrypted here at rest with ROI_PAYLOAD_KEYS), each stored with its submission. SQL only; the
rules (hashing, expiry, attempt limits, what a clean upload is) are the caller's."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, LargeBinary, select, text, update
from sqlmodel import Field, Session, SQLModel, col
from ulid import ULID

from config import codec
from store.models import IntakeSubmission


class PortalEmailCode(SQLModel, table=True):
    """A one-time code sent to an email address: its salted hash, never the code."""

    __tablename__ = "portal_email_codes"

    id: str = Field(primary_key=True, max_length=32)
    email_digest: str = Field(max_length=64)
    salt: str = Field(max_length=32)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class PortalSignedDocument(SQLModel, table=True):
    """The sealed PDF of an e-signed authorization (PHI), one per submission."""

    __tablename__ = "portal_signed_documents"

    id: str = Field(primary_key=True, max_length=32)
    submission_id: str = Field(max_length=32, foreign_key="intake_submissions.id", unique=True)
    kind: str = Field(max_length=32)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    signed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    stored_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )


def add_code(
    session: Session,
    *,
    email_digest: str,
    salt: str,
    code_hash: str,
    now: datetime,
    expires_at: datetime,
) -> str:
    """Keep a new code's hash; its id (the email's outbox key)."""
    code_id = str(ULID())
    session.add(
        PortalEmailCode(
            id=code_id,
            email_digest=email_digest,
            salt=salt,
            code_hash=code_hash,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return code_id


def latest_code(session: Session, email_digest: str) -> PortalEmailCode | None:
    """The newest code sent to this address, locked for the check (two tries at once count
    twice)."""
    return session.execute(
        select(PortalEmailCode)
        .where(col(PortalEmailCode.email_digest) == email_digest)
        .order_by(col(PortalEmailCode.created_at).desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()


def count_attempt(session: Session, code_id: str) -> None:
    """One more wrong try."""
    session.execute(
        update(PortalEmailCode)
        .where(col(PortalEmailCode.id) == code_id)
        .values(attempts=col(PortalEmailCode.attempts) + 1)
    )


def mark_used(session: Session, code_id: str, now: datetime) -> None:
    """The code signed a submission: it never signs another."""
    session.execute(
        update(PortalEmailCode).where(col(PortalEmailCode.id) == code_id).values(used_at=now)
    )


def store_signed_document(
    session: Session, *, submission_id: str, kind: str, content: bytes, signed_at: datetime
) -> str:
    """Keep the sealed PDF with its submission (in intake's first transaction)."""
    document_id = str(ULID())
    session.add(
        PortalSignedDocument(
            id=document_id,
            submission_id=submission_id,
            kind=kind,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            signed_at=signed_at,
        )
    )
    return document_id


@dataclass(frozen=True)
class SignedDocumentInfo:
    """What the staff page lists (never the bytes)."""

    id: str
    kind: str
    signed_at: datetime


def signed_documents_for_request(session: Session, request_id: str) -> list[SignedDocumentInfo]:
    """The signed documents of the submission a request was made from."""
    rows = session.execute(
        select(
            col(PortalSignedDocument.id),
            col(PortalSignedDocument.kind),
            col(PortalSignedDocument.signed_at),
        )
        .join(IntakeSubmission, col(IntakeSubmission.id) == col(PortalSignedDocument.submission_id))
        .where(col(IntakeSubmission.request_id) == request_id)
        .order_by(col(PortalSignedDocument.signed_at))
    ).all()
    return [SignedDocumentInfo(r[0], r[1], r[2]) for r in rows]


def signed_document(session: Session, request_id: str, document_id: str) -> bytes | None:
    """A signed document's bytes, only through the request it belongs to."""
    found = session.execute(
        select(col(PortalSignedDocument.content))
        .join(IntakeSubmission, col(IntakeSubmission.id) == col(PortalSignedDocument.submission_id))
        .where(
            col(PortalSignedDocument.id) == document_id,
            col(IntakeSubmission.request_id) == request_id,
        )
    ).scalar_one_or_none()
    return bytes(found) if found is not None else None


class PortalUpload(SQLModel, table=True):
    """A document the requester uploaded (a legal document, a decree), re-encoded by the
    portal and sealed with AES-256-GCM (`key_id` names the ROI_PAYLOAD_KEYS key). PHI: opened
    only for staff who may open its request, never served back on the portal."""

    __tablename__ = "portal_uploads"

    id: str = Field(primary_key=True, max_length=32)
    submission_id: str = Field(max_length=32, foreign_key="intake_submissions.id")
    kind: str = Field(max_length=32)
    media_type: str = Field(max_length=32)
    size: int = Field(sa_column=Column(Integer, nullable=False))
    key_id: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stored_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )


def store_upload(
    session: Session,
    *,
    submission_id: str,
    kind: str,
    media_type: str,
    content: bytes,
    keys: str | None,
) -> str:
    """Keep a clean upload with its submission, encrypted (in intake's first transaction)."""
    upload_id = str(ULID())
    key_id, sealed = codec.seal_blob(keys, content, upload_id)
    session.add(
        PortalUpload(
            id=upload_id,
            submission_id=submission_id,
            kind=kind,
            media_type=media_type,
            size=len(content),
            key_id=key_id,
            content=sealed,
        )
    )
    return upload_id


@dataclass(frozen=True)
class UploadInfo:
    """What the staff page lists (never the bytes)."""

    id: str
    kind: str
    media_type: str
    size: int
    stored_at: datetime


def uploads_for_request(session: Session, request_id: str) -> list[UploadInfo]:
    """The uploads of the submission a request was made from."""
    rows = session.execute(
        select(
            col(PortalUpload.id),
            col(PortalUpload.kind),
            col(PortalUpload.media_type),
            col(PortalUpload.size),
            col(PortalUpload.stored_at),
        )
        .join(IntakeSubmission, col(IntakeSubmission.id) == col(PortalUpload.submission_id))
        .where(col(IntakeSubmission.request_id) == request_id)
        .order_by(col(PortalUpload.id))
    ).all()
    return [UploadInfo(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def upload(
    session: Session, request_id: str, upload_id: str, keys: str | None
) -> tuple[str, bytes] | None:
    """(media type, decrypted bytes) of an upload, only through the request it belongs to."""
    found = session.execute(
        select(PortalUpload)
        .join(IntakeSubmission, col(IntakeSubmission.id) == col(PortalUpload.submission_id))
        .where(col(PortalUpload.id) == upload_id, col(IntakeSubmission.request_id) == request_id)
    ).scalar_one_or_none()
    if found is None:
        return None
    return found.media_type, codec.open_blob(keys, found.key_id, bytes(found.content), found.id)
