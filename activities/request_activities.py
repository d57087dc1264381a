"""Side effects of a records request: read model, letters, delivery, disclosures, staff alerts.

Activities are methods of a class that receives its clients in __init__, so tests can pass a
real database URL and a temporary outbox. Each is idempotent on the key its input carries.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import names
from activities.channels.dispatch import Channels
from activities.heartbeat import keep_heartbeating
from activities.outbox import Outbox
from activities.persist import persist_after_send
from domain.effects import (
    Delivery,
    DeliveryReceipt,
    DisclosureRecord,
    NoticeToSend,
    Projection,
    StaffNotification,
)
from domain.types import DeliveryMethod
from letters import LetterError, render_notice
from runtime.metrics import DELIVERIES, LETTERS_RENDERED
from store import cases, repository
from store.db import session_scope

log = structlog.get_logger(__name__)

_JOB_CHANNEL = {
    DeliveryMethod.US_MAIL: "print",
    DeliveryMethod.CD_MAIL: "print",
    DeliveryMethod.FEDEX: "ship",
}


class RequestActivities:
    """All activities of RecordRequestWorkflow."""

    def __init__(
        self,
        database_url: str,
        outbox: Outbox,
        *,
        download_base_url: str = "http://127.0.0.1:8000/download",
        latency_ms: int = 0,
        channels: Channels | None = None,
    ) -> None:
        self.database_url = database_url
        self.outbox = outbox
        self.channels = channels  # None: the local outbox jobs of the first version
        self.download_base_url = download_base_url
        self.latency_ms = latency_ms

    @activity.defn(name=names.PROJECT)
    def project(self, projection: Projection) -> bool:
        """Mirror the workflow's state into PostgreSQL with one audit event."""
        with session_scope(self.database_url) as session:
            added = repository.project(
                session, projection.state, projection.version, projection.event
            )
        log.info(
            "request.projected",
            request_id=projection.state.request_id,
            action=projection.event.action,
            status=projection.state.status.value,
            duplicate=not added,
        )
        return added

    @activity.defn(name=names.SEND_NOTICE)
    def send_notice(self, item: NoticeToSend) -> str:
        """Render the letter and put it in the outbox, once per key."""
        with session_scope(self.database_url) as session:
            existing = repository.outbound_item(session, item.key)
            if existing is not None:
                return existing.path or ""
        try:
            pdf = render_notice(item.notice)
        except LetterError as error:
            raise ApplicationError(str(error), type="LetterError", non_retryable=True) from error
        path = self.outbox.write("letters", item.key, ".pdf", pdf)
        with session_scope(self.database_url) as session:
            repository.record_outbound(
                session,
                key=item.key,
                request_id=item.request_id,
                channel="letter",
                kind=item.notice.kind.value,
                path=str(path),
                at=datetime.now(UTC),
                detail={"language": item.notice.language.value, "bytes": len(pdf)},
            )
        LETTERS_RENDERED.labels(item.notice.kind.value, item.notice.language.value).inc()
        log.info(
            "notice.sent", request_id=item.request_id, kind=item.notice.kind.value, key=item.key
        )
        return str(path)

    def _simulate_latency(self) -> None:
        """Local channels are instant; a configured latency lets tests interrupt a delivery."""
        deadline = time.monotonic() + self.latency_ms / 1000
        while time.monotonic() < deadline:
            activity.heartbeat()
            time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))

    def _amendments(self, key: str | None) -> list[dict[str, str | None]]:
        """Amendments, disagreements and rebuttals linked to the record travel with it."""
        if not key:
            return []
        with session_scope(self.database_url) as session:
            rows = cases.amendments_for(session, key)
        return [
            {
                "outcome": r.outcome,
                "record": r.record_description,
                "amendment": r.amendment_text,
                "denial_basis": r.denial_basis,
                "disagreement": r.disagreement,
                "rebuttal": r.rebuttal,
            }
            for r in rows
        ]

    def _email(self, delivery: Delivery, amendment_count: int = 0) -> bytes:
        token = hashlib.sha256(f"{delivery.key}:{delivery.request_id}".encode()).hexdigest()[:32]
        message = EmailMessage()
        message["To"] = delivery.email or ""
        message["From"] = "Release of Information <roi-noreply@hospital.example>"
        message["Subject"] = f"Your records request {delivery.tracking_number} is ready"
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = f"<{delivery.key}@roi.hospital.example>"
        message.set_content(
            "The records you asked for are ready.\n\n"
            f"Download them securely here: {self.download_base_url}/{token}\n\n"
            "The link is for you alone and expires. The records are not attached to this email.\n"
            + (
                f"\nThe release includes {amendment_count} amendment statement(s) linked to "
                "this record.\n"
                if amendment_count
                else ""
            )
        )
        return bytes(message)

    @activity.defn(name=names.DELIVER)
    def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        """Send the records by the chosen method, once per key."""
        with session_scope(self.database_url) as session:
            existing = repository.outbound_item(session, delivery.key)
            if existing is not None:
                return DeliveryReceipt(
                    key=delivery.key,
                    method=delivery.method,
                    reference=existing.path or "",
                    carrier_tracking_number=(existing.detail or {}).get("tracking_number"),
                )
        self._simulate_latency()
        if self.channels is not None:
            return self._deliver_by_channel(delivery)
        attachments = self._amendments(delivery.patient_key)
        if delivery.method == DeliveryMethod.EMAIL_LINK:
            channel = "email"
            path = self.outbox.write(
                channel, delivery.key, ".eml", self._email(delivery, len(attachments))
            )
        else:
            channel = _JOB_CHANNEL[delivery.method]
            job = {
                "key": delivery.key,
                "tracking_number": delivery.tracking_number,
                "method": delivery.method.value,
                "recipient_name": delivery.recipient_name,
                "address_lines": delivery.address_lines,
                "description": delivery.description,
                "amendment_statements": attachments,
            }
            path = self.outbox.write(
                channel, delivery.key, ".json", json.dumps(job, indent=2).encode()
            )
        with session_scope(self.database_url) as session:
            repository.record_outbound(
                session,
                key=delivery.key,
                request_id=delivery.request_id,
                channel=channel,
                kind=f"records_{delivery.method.value}",
                path=str(path),
                at=datetime.now(UTC),
            )
        DELIVERIES.labels(channel, delivery.method.value).inc()
        log.info("records.delivered", request_id=delivery.request_id, method=delivery.method.value)
        return DeliveryReceipt(key=delivery.key, method=delivery.method, reference=path.name)

    def _deliver_by_channel(self, delivery: Delivery) -> DeliveryReceipt:
        """The real channels (activities/channels); a batch-queued delivery is recorded when
        its batch sends it."""
        assert self.channels is not None
        amendments = self._amendments(delivery.patient_key)
        with keep_heartbeating():  # a hung relay must not look like a dead worker
            sent = self.channels.deliver(delivery.model_copy(update={"amendments": amendments}))
        if sent.receipt.queued:
            return sent.receipt

        def record() -> None:
            with session_scope(self.database_url) as session:
                repository.record_outbound(
                    session,
                    key=delivery.key,
                    request_id=delivery.request_id,
                    channel=sent.channel,
                    kind=f"records_{delivery.method.value}",
                    path=sent.path,
                    at=datetime.now(UTC),
                    detail=sent.detail,
                )

        with keep_heartbeating():  # sent: a database outage now must not cause a resend
            persist_after_send(record)
        DELIVERIES.labels(sent.channel, delivery.method.value).inc()
        log.info("records.delivered", request_id=delivery.request_id, method=delivery.method.value)
        return sent.receipt

    @activity.defn(name=names.RECORD_DISCLOSURE)
    def record_disclosure(self, record: DisclosureRecord) -> bool:
        """Log the release for the accounting of disclosures (one row per release)."""
        with session_scope(self.database_url) as session:
            added = repository.record_disclosure(session, record)
        log.info(
            "disclosure.recorded",
            request_id=record.request_id,
            category=record.category.value,
            duplicate=not added,
        )
        return added

    @activity.defn(name=names.NOTIFY_STAFF)
    def notify_staff(self, note: StaffNotification) -> bool:
        """Tell the assignee or the site supervisor about a clock event."""
        with session_scope(self.database_url) as session:
            added = repository.record_notification(session, note)
        log.info(
            "staff.notified", request_id=note.request_id, audience=note.audience, kind=note.kind
        )
        return added

    def all(self) -> list:
        """Every activity, for registering with a worker."""
        return [
            self.project,
            self.send_notice,
            self.deliver,
            self.record_disclosure,
            self.notify_staff,
        ]
