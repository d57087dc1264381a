"""The redirect answer to someone who sent outside records to ROI: sent once, recorded.

The reply goes by the sender's own channel: an email when they gave an address, else a letter
(rendered by `letters`, in their language) to their mailing address. It is recorded in
`outbound_items` under the submission's reply key (request_id = the submission's id): what was
sent (channel, kind, where), and when. A retried activity finds that row and sends nothing;
if it dies between sending and recording, the retry sends an email with the same Message-ID
(receivers drop the duplicate) or finds the letter already in the outbox (written once).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import names
from activities.channels.mailer import Mailer
from activities.heartbeat import keep_heartbeating
from activities.outbox import Outbox
from activities.persist import persist_after_send
from domain.calendar import local_date
from domain.kinds.outside_records import OutsideRecordsReply, reply_channel, reply_key
from domain.notices import Notice, NoticeKind
from letters import render_notice
from letters.catalog import catalog_for
from letters.errors import LetterError
from store import repository
from store.db import session_scope

log = structlog.get_logger(__name__)

KIND = NoticeKind.OUTSIDE_RECORDS_REDIRECT.value


class OutsideRecordsActivities:
    """The reply's one activity, wired to the database, outbox and mailer."""

    def __init__(self, database_url: str, outbox: Outbox, mailer: Mailer) -> None:
        self.database_url = database_url
        self.outbox = outbox
        self.mailer = mailer

    @activity.defn(name=names.SEND_OUTSIDE_REPLY)
    def send_reply(self, reply: OutsideRecordsReply) -> str:
        """Send the redirect answer once; returns where it went (outbox path or message id)."""
        key = reply_key(reply.submission_id)
        with session_scope(self.database_url) as session:
            existing = repository.outbound_item(session, key)
            if existing is not None:
                return existing.path or ""
        channel = reply_channel(reply.notice)
        if channel is None:
            raise ApplicationError(
                "the sender gave no email or address", type="NoContact", non_retryable=True
            )
        now = datetime.now(UTC)
        letter = self._letter(reply, now)
        # as deliveries do: a hung relay or a database outage after the send must not look like
        # a dead worker, whose retry would send the reply again
        with keep_heartbeating():
            if channel == "email":
                where = self.mailer.send(self._email(reply, key, letter, now), key)
            else:
                where = str(self.outbox.write("letters", key, ".pdf", letter))
            persist_after_send(lambda: self._record(reply, key, channel, where, now))
        log.info("outside_records.reply_sent", submission_id=reply.submission_id, via=channel)
        return where

    def _letter(self, reply: OutsideRecordsReply, now: datetime) -> bytes:
        notice = reply.notice
        address = notice.sender_address.lines() if notice.sender_address else []
        try:
            return render_notice(
                Notice(
                    kind=NoticeKind.OUTSIDE_RECORDS_REDIRECT,
                    language=notice.language,
                    site=notice.site,
                    tracking_number=reply.submission_id,  # the reference staff look it up by
                    issued_on=local_date(notice.site, now),
                    recipient_name=notice.sender_name,
                    recipient_address=address,
                    received_on=local_date(notice.site, notice.received_at),
                )
            )
        except LetterError as error:
            raise ApplicationError(str(error), type="LetterError", non_retryable=True) from error

    def _email(
        self, reply: OutsideRecordsReply, key: str, letter: bytes, now: datetime
    ) -> EmailMessage:
        """The answer in the sender's language, the letter attached."""
        notice = reply.notice
        catalog = catalog_for(notice.language)
        message = EmailMessage()
        message["To"] = notice.sender_email or ""
        message["From"] = self.mailer.sender
        message["Subject"] = catalog.text(f"{KIND}.title")
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{key}@roi.hospital.example>"
        message.set_content(
            "\n\n".join(
                (
                    catalog.text("common.greeting", name=notice.sender_name),
                    catalog.text(f"{KIND}.body"),
                    catalog.text(f"{KIND}.how"),
                )
            )
            + "\n"
        )
        message.add_attachment(
            letter, maintype="application", subtype="pdf", filename=f"{KIND}.pdf"
        )
        return message

    def _record(
        self, reply: OutsideRecordsReply, key: str, channel: str, where: str, at: datetime
    ) -> None:
        with session_scope(self.database_url) as session:
            repository.record_outbound(
                session,
                key=key,
                request_id=reply.submission_id,
                channel=channel,
                kind=KIND,
                path=where,
                at=at,
                detail={"language": reply.notice.language.value, "sent_at": at.isoformat()},
            )

    def all(self) -> list[Callable[..., Any]]:
        return [self.send_reply]
