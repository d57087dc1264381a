"""Side effects of a records request: read model, letters, delivery, disclosures, staff alerts.

Activities are methods of a class that receives its clients in __init__: the worker and the
tests build the same channels (activities/channels/wiring.py build_channels), so what a test
sends is what production sends. Each is idempotent on the key its input carries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import names
from activities.channels.dispatch import Channels
from activities.heartbeat import keep_heartbeating
from activities.outbox import Outbox
from activities.persist import persist_after_send
from activities.sources.base import query_for
from config.metrics import DELIVERIES, LETTERS_RENDERED
from domain.effects import (
    Delivery,
    DeliveryReceipt,
    DisclosureRecord,
    NoticeToSend,
    PageCountQuery,
    Projection,
    ReleaseFacts,
    ReleaseFactsQuery,
    StaffNotification,
)
from domain.notices import Notice, NoticeKind
from domain.release_safety import in_scope, same_patient
from letters import LetterError, render_notice
from store import cases, receipts, repository
from store.db import session_scope

log = structlog.get_logger(__name__)


class RequestActivities:
    """All activities of RecordRequestWorkflow."""

    def __init__(
        self,
        database_url: str,
        outbox: Outbox,
        *,
        channels: Channels,
        latency_ms: int = 0,
    ) -> None:
        self.database_url = database_url
        self.outbox = outbox  # letters; the records leave by `channels`
        self.channels = channels
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
        notice = self._with_contact_and_receipts(item)
        try:
            pdf = render_notice(notice)
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

    def _with_contact_and_receipts(self, item: NoticeToSend) -> Notice:
        """The notice with its request's team (whose contact it gives) and, on the completion
        letter, the FedEx tracking number and the payments received, as recorded."""
        notice = item.notice
        update: dict[str, Any] = {}
        with session_scope(self.database_url) as session:
            if not notice.team:
                team = receipts.request_team(session, item.request_id)
                if team:
                    update["team"] = team
            if notice.kind == NoticeKind.COMPLETION:
                found = receipts.receipts(session, item.request_id, notice.site)
                if found.carrier_tracking_number and not notice.carrier_tracking_number:
                    update["carrier_tracking_number"] = found.carrier_tracking_number
                if found.payments and not notice.payments:
                    update["payments"] = found.payments
        return notice.model_copy(update=update) if update else notice

    def _simulate_latency(self) -> None:
        """A configured latency (ROI_OUTBOX_LATENCY_MS) lets tests interrupt a delivery."""
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
        amendments = self._amendments(delivery.patient_key)
        with keep_heartbeating():  # a hung relay must not look like a dead worker
            sent = self.channels.deliver(delivery.model_copy(update={"amendments": amendments}))
        if sent.receipt.queued:  # recorded when the site's batch sends it
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

    @activity.defn(name=names.COUNT_PAGES)
    def count_pages(self, query: PageCountQuery) -> int:
        """Pages of this patient's records inside the request's dates and types (read only)."""
        sub = query.submission
        found = self.channels.source.find(query_for(sub))
        return sum(
            d.facts.pages for d in found if same_patient(sub, d.facts) and in_scope(sub, d.facts)
        )

    @activity.defn(name=names.RELEASE_FACTS)
    def release_facts(self, query: ReleaseFactsQuery) -> ReleaseFacts:
        """What was recorded elsewhere since intake: a death, a revocation (read only)."""
        with session_scope(self.database_url) as session:
            died = cases.deceased_on(session, query.patient_key)
            revoked = cases.authorization_revoked(session, f"{query.request_id}-authorization")
        return ReleaseFacts(deceased_on=died, authorization_revoked=revoked)

    def all(self) -> list[Callable[..., Any]]:
        """Every activity, for registering with a worker."""
        return [
            self.release_facts,
            self.count_pages,
            self.project,
            self.send_notice,
            self.deliver,
            self.record_disclosure,
            self.notify_staff,
        ]
