"""The ROI mailbox, read over IMAP (imap-tools) on a schedule: each scan attached to a message
becomes an inbound document, stored once.

Each configured folder maps to a site (ROI_INBOUND_IMAP_FOLDERS, "INBOX=minnesota,..."). A
poll fetches the messages not yet marked with the `RoiStored` keyword, stores every PDF, TIFF
or image attachment (or, with none, the message's text) under a source key made from the
folder, the Message-ID (else UIDVALIDITY and UID) and the part's number, then marks the
message. A poll that dies after storing and before marking fetches the message again and
stores nothing twice (the source key is unique). Messages are never deleted or moved.

The activity returns the ids of the documents it stored, and of any document stored earlier
whose reading never started (Temporal was unreachable when it arrived), so the poll workflow
starts one reading workflow for each. Logs carry counts and document ids only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio import activity

from activities import names
from config.settings import Settings
from store import documents
from store.db import session_scope

log = structlog.get_logger(__name__)

#: The keyword set on a message once its documents are stored.
STORED_KEYWORD = "RoiStored"
#: Attachments that are documents to read (by declared type or by their first bytes).
DOCUMENT_TYPES = ("application/pdf", "image/tiff", "image/png", "image/jpeg")
#: A Date header older than this is not believed for the receipt time (the poll's time is).
DATE_TRUST = timedelta(days=3)
#: Documents whose reading has not started this long after they were stored are started again.
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class MailboxConfig:
    """Where the ROI mailbox is and which folder is which site's."""

    host: str
    port: int
    username: str
    password: str
    tls: str = "ssl"  # ssl, starttls or none
    folders: tuple[tuple[str, str], ...] = (("INBOX", "minnesota"),)


def parse_folders(spec: str) -> tuple[tuple[str, str], ...]:
    """ "INBOX=minnesota,Arizona=arizona" as (folder, site) pairs."""
    pairs = []
    for item in spec.split(","):
        if "=" in item:
            folder, site = item.split("=", 1)
            if folder.strip() and site.strip():
                pairs.append((folder.strip(), site.strip().lower()))
    return tuple(pairs)


def source_key(folder: str, message_id: str | None, uid_validity: str, uid: str, part: int) -> str:
    """The document's key: the same message and part always give the same key (hashed: a
    Message-ID can carry an address)."""
    identity = message_id.strip() if message_id else f"uid:{uid_validity}:{uid}"
    digest = hashlib.sha256(f"{folder}\0{identity}\0{part}".encode()).hexdigest()
    return f"imap:{digest}"


def _is_document(content_type: str, payload: bytes) -> bool:
    head = payload[:4]
    return (
        content_type.lower() in DOCUMENT_TYPES
        or payload.startswith(b"%PDF")
        or head in (b"II*\x00", b"MM\x00*")
    )


def received_time(sent: datetime | None, now: datetime) -> datetime:
    """When the hospital received the message: its Date when that is believable (not in the
    future, not days old), else the moment the poll found it."""
    if sent is None or sent.tzinfo is None or sent > now or now - sent > DATE_TRUST:
        return now
    return sent.astimezone(UTC)


def _mailbox(config: MailboxConfig) -> Any:
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    if config.tls == "none":
        return MailBoxUnencrypted(config.host, config.port)
    if config.tls == "starttls":
        return MailBoxStartTls(config.host, config.port)
    return MailBox(config.host, config.port)


def poll_once(config: MailboxConfig, database_url: str, now: datetime | None = None) -> list[str]:
    """Store the documents of every new message in every configured folder; returns the ids
    of the documents stored now."""
    from imap_tools import AND

    stored: list[str] = []
    for folder, site in config.folders:
        with _mailbox(config).login(config.username, config.password, folder) as box:
            validity = str(box.folder.status(folder, ["UIDVALIDITY"]).get("UIDVALIDITY", "0"))
            done: list[str] = []
            for message in box.fetch(AND(no_keyword=STORED_KEYWORD), mark_seen=False, bulk=20):
                if message.uid is None:
                    continue
                found = _store_message(message, folder, site, validity, database_url, now)
                stored.extend(found)
                done.append(message.uid)
            if done:
                box.flag(done, STORED_KEYWORD, True)
    return stored


def _store_message(
    message: Any, folder: str, site: str, validity: str, database_url: str, now: datetime | None
) -> list[str]:
    """Each document attached to one message (or its text when it has none), stored once."""
    moment = received_time(message.date if message.date_str else None, now or datetime.now(UTC))
    message_id = (message.headers.get("message-id") or ("",))[0] or None
    parts: list[tuple[bytes, str, str | None]] = [
        (att.payload, att.content_type or "application/octet-stream", att.filename)
        for att in message.attachments
        if att.payload and _is_document(att.content_type or "", att.payload)
    ]
    if not parts:  # a request written in the email itself: its text is the document
        body = f"{message.subject}\n\n{message.text or message.html or ''}".encode()
        parts = [(body, "text/plain", None)]
    ids = []
    with session_scope(database_url) as session:
        for number, (payload, content_type, filename) in enumerate(parts, start=1):
            document_id, created = documents.store(
                session,
                channel="email",
                site=site,
                received_at=moment,
                content=payload,
                content_type=content_type,
                filename=filename,
                sender=message.from_ or None,
                source_key=source_key(folder, message_id, validity, message.uid, number),
            )
            if created:
                ids.append(document_id)
    for document_id in ids:
        log.info("inbound.stored", document_id=document_id, channel="email")
    return ids


class MailboxActivities:
    """The poll's activity, wired to the mailbox settings and the database."""

    def __init__(self, database_url: str, config: MailboxConfig | None) -> None:
        self.database_url = database_url
        self.config = config

    @activity.defn(name=names.POLL_MAILBOX)
    def poll_mailbox(self) -> list[str]:
        """New documents from the mailbox, and documents whose reading never started."""
        fresh = poll_once(self.config, self.database_url) if self.config else []
        cutoff = datetime.now(UTC) - STALE_AFTER
        with session_scope(self.database_url) as session:
            stale = [d for d in documents.waiting_to_be_read(session, cutoff) if d not in fresh]
        log.info("inbound.polled", stored=len(fresh), restarted=len(stale))
        return fresh + stale

    def all(self) -> list[Callable[..., Any]]:
        return [self.poll_mailbox]


def mailbox_from(settings: Settings) -> MailboxConfig | None:
    """The mailbox the settings name (None: no mailbox is polled)."""
    if not settings.inbound_imap_host or not settings.inbound_imap_username:
        return None
    return MailboxConfig(
        host=settings.inbound_imap_host,
        port=settings.inbound_imap_port,
        username=settings.inbound_imap_username,
        password=settings.inbound_imap_password or "",
        tls=settings.inbound_imap_tls,
        folders=parse_folders(settings.inbound_imap_folders),
    )
