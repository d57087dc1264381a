"""Inbound documents: the rows of every fax, emailed scan and upload, and their page images.

A document's bytes are inserted and committed in one statement before anything else happens to
it (services.inbound); a `source_key` (the fax gateway's id, the mailbox message and part) makes
a second delivery of the same document store nothing. OCR fills in the reading later, once.
The bytes, the text and the reading are PHI, like intake_submissions.payload: kept in
PostgreSQL (as the submissions are), never in a log line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, LargeBinary, Text, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, col
from ulid import ULID

#: A document's stages: stored, then read (or not), then submitted as a request or discarded.
RECEIVED = "received"
READ = "read"
UNREADABLE = "unreadable"
SUBMITTED = "submitted"
DISCARDED = "discarded"
OPEN_STATUSES = (RECEIVED, READ, UNREADABLE)


class InboundDocument(SQLModel, table=True):
    """One document as it arrived (bytes, receipt time), what OCR read, what staff did."""

    __tablename__ = "inbound_documents"

    id: str = Field(primary_key=True, max_length=32)
    site: str | None = Field(default=None, max_length=16)
    channel: str = Field(max_length=16)  # fax, email, upload
    source_key: str | None = Field(default=None, max_length=300)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    stored_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
    filename: str | None = Field(default=None, max_length=200)  # PHI (names in file names)
    content_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # PHI
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_column=Column(Integer, nullable=False))
    sender: str | None = Field(default=None, max_length=320)  # PHI: fax number or address
    uploaded_by: str | None = Field(default=None, max_length=32)
    status: str = Field(default=RECEIVED, max_length=16)
    page_count: int | None = None
    ocr_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # PHI
    extraction: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))  # PHI
    ocr_error: str | None = Field(default=None, max_length=64)
    read_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    confirmed: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))  # PHI
    confirmed_by: str | None = Field(default=None, max_length=32)
    confirmed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    submission_id: str | None = Field(default=None, max_length=32)
    request_id: str | None = Field(default=None, max_length=32)
    tracking_number: str | None = Field(default=None, max_length=16)
    discarded_reason: str | None = Field(default=None, max_length=200)
    updated_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class InboundDocumentPage(SQLModel, table=True):
    """One page of a document as a PNG, for the split screen (made when it is read)."""

    __tablename__ = "inbound_document_pages"

    document_id: str = Field(primary_key=True, max_length=32, foreign_key="inbound_documents.id")
    page: int = Field(primary_key=True)
    png: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # PHI


def new_document_id() -> str:
    """An opaque id (ULID): what logs, audit rows and workflow ids carry."""
    return str(ULID())


def store(
    session: Session,
    *,
    channel: str,
    site: str | None,
    received_at: datetime,
    content: bytes,
    content_type: str,
    filename: str | None = None,
    sender: str | None = None,
    source_key: str | None = None,
    uploaded_by: str | None = None,
) -> tuple[str, bool]:
    """Insert the document (its id, True), or find the one stored under the same source key
    (its id, False): a retried delivery stores nothing twice."""
    document_id = new_document_id()
    inserted = session.execute(
        insert(InboundDocument)
        .values(
            id=document_id,
            site=site,
            channel=channel,
            source_key=source_key,
            received_at=received_at,
            filename=(filename or "")[:200] or None,
            content_type=(content_type or "application/octet-stream")[:100],
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            size_bytes=len(content),
            sender=(sender or "")[:320] or None,
            uploaded_by=uploaded_by,
            status=RECEIVED,
        )
        .on_conflict_do_nothing(index_elements=["source_key"])
        .returning(col(InboundDocument.id))
    ).scalar_one_or_none()
    if inserted is not None:
        return str(inserted), True
    existing = session.execute(
        select(col(InboundDocument.id)).where(col(InboundDocument.source_key) == source_key)
    ).scalar_one()
    return str(existing), False


def known_source_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these source keys are stored already (a poll skips them)."""
    wanted = list(keys)
    if not wanted:
        return set()
    rows = session.execute(
        select(col(InboundDocument.source_key)).where(col(InboundDocument.source_key).in_(wanted))
    ).scalars()
    return {str(r) for r in rows}


def get(
    session: Session, document_id: str, *, with_content: bool = False
) -> InboundDocument | None:
    """One document (its bytes only when asked: they can be megabytes)."""
    query = select(InboundDocument).where(col(InboundDocument.id) == document_id)
    if not with_content:
        query = query.options(defer(InboundDocument.content))  # type: ignore[arg-type]
    return session.execute(query).scalar_one_or_none()


def content_of(session: Session, document_id: str) -> tuple[bytes, str] | None:
    """The document's bytes and content type."""
    row = session.execute(
        select(col(InboundDocument.content), col(InboundDocument.content_type)).where(
            col(InboundDocument.id) == document_id
        )
    ).one_or_none()
    return (bytes(row[0]), str(row[1])) if row else None


def record_reading(
    session: Session,
    document_id: str,
    *,
    ocr_text: str,
    extraction: dict[str, Any],
    pages: list[bytes],
    now: datetime | None = None,
) -> bool:
    """Store what OCR read and the page images, once: False when it was already read (a retried
    activity changes nothing)."""
    now = now or datetime.now(UTC)
    changed = session.execute(
        update(InboundDocument)
        .where(col(InboundDocument.id) == document_id, col(InboundDocument.status) == RECEIVED)
        .values(
            status=READ,
            ocr_text=ocr_text,
            extraction=extraction,
            page_count=len(pages),
            read_at=now,
            updated_at=now,
            ocr_error=None,
        )
    )
    if not changed.rowcount:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        return False
    store_pages(session, document_id, pages)
    return True


def store_pages(session: Session, document_id: str, pages: list[bytes]) -> None:
    """The page images (kept when a document could not be read but could be drawn)."""
    for number, png in enumerate(pages, start=1):
        session.execute(
            insert(InboundDocumentPage)
            .values(document_id=document_id, page=number, png=png)
            .on_conflict_do_nothing(index_elements=["document_id", "page"])
        )


def record_unreadable(
    session: Session,
    document_id: str,
    error: str,
    pages: list[bytes] | None = None,
    now: datetime | None = None,
) -> bool:
    """OCR could not read it: listed as "could not be read" for manual keying."""
    now = now or datetime.now(UTC)
    changed = session.execute(
        update(InboundDocument)
        .where(col(InboundDocument.id) == document_id, col(InboundDocument.status) == RECEIVED)
        .values(
            status=UNREADABLE,
            ocr_error=error[:64],
            page_count=len(pages) if pages else None,
            read_at=now,
            updated_at=now,
        )
    )
    if pages:
        store_pages(session, document_id, pages)
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def page_png(session: Session, document_id: str, page: int) -> bytes | None:
    """One page image."""
    png = session.execute(
        select(col(InboundDocumentPage.png)).where(
            col(InboundDocumentPage.document_id) == document_id,
            col(InboundDocumentPage.page) == page,
        )
    ).scalar_one_or_none()
    return bytes(png) if png is not None else None


def page_numbers(session: Session, document_id: str) -> list[int]:
    """The pages that have an image, in order."""
    return [
        int(n)
        for n in session.execute(
            select(col(InboundDocumentPage.page))
            .where(col(InboundDocumentPage.document_id) == document_id)
            .order_by(col(InboundDocumentPage.page))
        ).scalars()
    ]


def listing(
    session: Session, sites: list[str] | None, statuses: Iterable[str] = OPEN_STATUSES
) -> list[InboundDocument]:
    """Documents at these sites (None: every site, and those whose site is not known), oldest
    receipt first; without their bytes or text."""
    query = (
        select(InboundDocument)
        .where(col(InboundDocument.status).in_(list(statuses)))
        .options(
            defer(InboundDocument.content),  # type: ignore[arg-type]
            defer(InboundDocument.ocr_text),  # type: ignore[arg-type]
        )
        .order_by(col(InboundDocument.received_at))
    )
    if sites is not None:
        query = query.where(col(InboundDocument.site).in_(sites))
    return list(session.execute(query).scalars())


def confirm(
    session: Session, document_id: str, fields: dict[str, str], by: str, now: datetime
) -> None:
    """The specialist's confirmed or corrected fields (kept until submitted)."""
    session.execute(
        update(InboundDocument)
        .where(col(InboundDocument.id) == document_id)
        .values(confirmed=fields, confirmed_by=by, confirmed_at=now, updated_at=now)
    )


def attach(
    session: Session,
    document_id: str,
    *,
    submission_id: str,
    request_id: str | None,
    tracking_number: str | None,
    now: datetime,
) -> None:
    """Submitted: the document stays attached to the submission and the request it became."""
    session.execute(
        update(InboundDocument)
        .where(col(InboundDocument.id) == document_id)
        .values(
            status=SUBMITTED,
            submission_id=submission_id,
            request_id=request_id,
            tracking_number=tracking_number,
            updated_at=now,
        )
    )


def discard(session: Session, document_id: str, reason: str, now: datetime) -> bool:
    """Not a request (a cover sheet, a duplicate, junk): out of the list, never deleted."""
    changed = session.execute(
        update(InboundDocument)
        .where(
            col(InboundDocument.id) == document_id,
            col(InboundDocument.status).in_(OPEN_STATUSES),
        )
        .values(status=DISCARDED, discarded_reason=reason[:200], updated_at=now)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def for_request(session: Session, request_id: str) -> list[InboundDocument]:
    """The documents a request was made from (shown on its page)."""
    return list(
        session.execute(
            select(InboundDocument)
            .where(col(InboundDocument.request_id) == request_id)
            .options(
                defer(InboundDocument.content),  # type: ignore[arg-type]
                defer(InboundDocument.ocr_text),  # type: ignore[arg-type]
            )
            .order_by(col(InboundDocument.received_at))
        ).scalars()
    )


def waiting_to_be_read(session: Session, stored_before: datetime) -> list[str]:
    """Documents stored but never read (their workflow never started: Temporal was down)."""
    return [
        str(i)
        for i in session.execute(
            select(col(InboundDocument.id)).where(
                col(InboundDocument.status) == RECEIVED,
                col(InboundDocument.stored_at) < stored_before,
            )
        ).scalars()
    ]
