"""The site batch's side effects: start a run, build its mail/CD/FedEx output, finish it.

Each queued delivery is sent at most once: a row lock on its `batch_items` row (SKIP LOCKED,
so two runs never take the same one) and its status decide; FedEx shipments and CDs are marked
sent one by one right after they exist, a mail batch PDF all at once after it is written. A run
that failed half-way is simply run again: what was sent stays sent, the rest goes now, and
requests sent but not yet told are told again (their workflow ignores a repeat).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col

from activities.channels.dispatch import Channels
from activities.channels.mail import MailBatchFile
from activities.channels.packet import ReleaseHeld
from domain.batch import BatchBuild, BatchOutcome, BatchPlan, BatchStart
from domain.effects import Delivery
from domain.types import DeliveryMethod, Status
from store.db import session_scope
from store.models import BatchItem, BatchRun, OutboundItem, RecordRequest

log = structlog.get_logger(__name__)

WAITING = (Status.QUEUED_FOR_BATCH.value, Status.FULFILLING.value)


def queued_items(session: Session, site: str, method: str | None = None) -> list[BatchItem]:
    """Deliveries waiting for the site's batch, oldest first (the preview reads this too)."""
    query = select(BatchItem).where(col(BatchItem.site) == site, col(BatchItem.status) == "queued")
    if method:
        query = query.where(col(BatchItem.method) == method)
    return list(session.execute(query.order_by(col(BatchItem.queued_at))).scalars().all())


def start_run(database_url: str, start: BatchStart) -> BatchPlan:
    """Record the run (once per batch id) and say what it will do."""
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        session.execute(
            insert(BatchRun)
            .values(
                batch_id=start.batch_id,
                site=start.site,
                started_at=now,
                status="skipped" if start.skipped else "running",
                trigger=start.trigger,
                counts={},
            )
            .on_conflict_do_nothing(index_elements=["batch_id"])
        )
        if start.skipped:
            session.execute(
                update(BatchRun)
                .where(col(BatchRun.batch_id) == start.batch_id)
                .values(finished_at=now)
            )
            return BatchPlan(batch_id=start.batch_id, site=start.site)
        queued: dict[str, int] = {}
        for item in queued_items(session, start.site):
            queued[item.method] = queued.get(item.method, 0) + 1
        session.execute(  # the totals the CLI's progress bars start from
            update(BatchRun)
            .where(col(BatchRun.batch_id) == start.batch_id)
            .values(counts={f"{m}_total": n for m, n in queued.items()})
        )
        unsignalled = (
            session.execute(
                select(BatchItem).where(
                    col(BatchItem.site) == start.site,
                    col(BatchItem.status).in_(["sent", "held"]),
                    col(BatchItem.signalled_at).is_(None),
                )
            )
            .scalars()
            .all()
        )
        return BatchPlan(
            batch_id=start.batch_id,
            site=start.site,
            queued=queued,
            unsignalled=[_outcome(i) for i in unsignalled],
        )


def _outcome(item: BatchItem) -> BatchOutcome:
    return BatchOutcome(
        request_id=item.request_id,
        workflow_id=item.workflow_id,
        method=item.method,
        sent=item.status == "sent",
        reference=item.reference,
        carrier_tracking_number=item.carrier_tracking_number,
        pages=item.pages,
        codes=(item.hold_reason or "").split(",") if item.status == "held" else [],
    )


class BatchBuilder:
    """Builds one method's output for a site's run."""

    def __init__(
        self,
        database_url: str,
        channels: Channels,
        progress: Callable[[int, int], None] = lambda done, total: None,
    ) -> None:
        self.database_url = database_url
        self.channels = channels
        self.progress = progress

    def build(self, job: BatchBuild) -> list[BatchOutcome]:
        with session_scope(self.database_url) as session:
            keys = [i.delivery_key for i in queued_items(session, job.site, job.method.value)]
        if not keys:
            return []
        if job.method == DeliveryMethod.US_MAIL:
            return self._mail(job, keys)
        done = [self._one(job, key, n, len(keys)) for n, key in enumerate(keys, 1)]
        return [o for o in done if o is not None]

    def _claim(self, session: Session, key: str) -> tuple[BatchItem, Delivery] | None:
        """Lock one queued item whose request still waits; None when another run has it or it
        was withdrawn."""
        item = session.execute(
            select(BatchItem)
            .where(col(BatchItem.delivery_key) == key, col(BatchItem.status) == "queued")
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if item is None:
            return None
        status = session.execute(
            select(col(RecordRequest.status)).where(col(RecordRequest.id) == item.request_id)
        ).scalar_one_or_none()
        if status not in WAITING:
            item.status = "withdrawn"
            return None
        return item, Delivery.model_validate(item.delivery)

    def _hold(self, item: BatchItem, error: ReleaseHeld, batch_id: str) -> BatchOutcome:
        codes = [str(d.get("code")) for d in error.details if isinstance(d, dict)]
        item.status, item.batch_id, item.hold_reason = "held", batch_id, ",".join(codes)
        log.info("batch.item_held", request_id=item.request_id, codes=codes)
        return _outcome(item)

    def _one(self, job: BatchBuild, key: str, n: int, total: int) -> BatchOutcome | None:
        """A CD or a FedEx shipment: made and marked sent in one short transaction."""
        with session_scope(self.database_url) as session:
            claimed = self._claim(session, key)
            if claimed is None:
                return None
            item, delivery = claimed
            today = self.channels.today(delivery, job.at)
            try:
                packet = self.channels.gather(delivery, today)
            except ReleaseHeld as error:
                return self._hold(item, error, job.batch_id)
            if job.method == DeliveryMethod.FEDEX:
                self.channels.require_paid(delivery)
                tracking, label = self.channels.ship(delivery, packet, today)
                item.carrier_tracking_number, item.reference = tracking, tracking
                channel, path = "ship", str(label)
            else:
                path_, _ = self.channels.write_cd(delivery, packet)
                item.reference, channel, path = path_.name, "cd", str(path_)
            self._sent(session, item, job.batch_id, channel, path)
            outcome = _outcome(item)
        self.progress(n, total)
        return outcome

    def _mail(self, job: BatchBuild, keys: list[str]) -> list[BatchOutcome]:
        """Every mail packet of the run in one print-ready PDF, then all marked sent together."""
        outbox = self.channels.outbox
        name = f"batch-{job.batch_id}"
        outcomes: list[BatchOutcome] = []
        # the PDF goes to disk letter by letter (memory stays flat however big the batch) and
        # into place whole, before the rows that point at it commit
        with (
            session_scope(self.database_url) as session,
            outbox.spool("print", name, ".pdf") as out,
        ):
            batch = MailBatchFile(out)
            taken: list[BatchItem] = []
            for n, key in enumerate(keys, 1):
                claimed = self._claim(session, key)
                if claimed is None:
                    continue
                item, delivery = claimed
                today = self.channels.today(delivery, job.at)
                try:
                    packet = self.channels.gather(delivery, today)
                except ReleaseHeld as error:
                    outcomes.append(self._hold(item, error, job.batch_id))
                    continue
                line = batch.add(delivery, packet, today)
                item.reference = f"{job.batch_id}:p{line.first_page}-{line.last_page}"
                item.pages = line.last_page - line.first_page + 1
                taken.append(item)
                self.progress(n, len(keys))
            if taken:
                batch.close()
                pdf = outbox.path_for("print", name, ".pdf")
                outbox.write("print", f"{name}-manifest", ".csv", batch.manifest_csv())
                for item in taken:
                    self._sent(session, item, job.batch_id, "print", str(pdf))
                    outcomes.append(_outcome(item))
        return outcomes

    def _sent(
        self, session: Session, item: BatchItem, batch_id: str, channel: str, path: str
    ) -> None:
        now = datetime.now(UTC)
        item.status, item.batch_id, item.sent_at = "sent", batch_id, now
        session.execute(
            insert(OutboundItem)
            .values(
                item_key=item.delivery_key,
                request_id=item.request_id,
                channel=channel,
                kind=f"records_{item.method}",
                path=path,
                created_at=now,
                detail={"batch_id": batch_id, "reference": item.reference},
            )
            .on_conflict_do_nothing(index_elements=["item_key"])
        )
        session.flush()


def mark_signalled(database_url: str, request_ids: list[str]) -> int:
    """The request workflows were told (a later run will not tell them again)."""
    if not request_ids:
        return 0
    with session_scope(database_url) as session:
        result = session.execute(
            update(BatchItem)
            .where(
                col(BatchItem.request_id).in_(request_ids),
                col(BatchItem.status).in_(["sent", "held"]),
                col(BatchItem.signalled_at).is_(None),
            )
            .values(signalled_at=datetime.now(UTC))
        )
        return cast(CursorResult[Any], result).rowcount or 0


def finish_run(
    database_url: str,
    batch_id: str,
    counts: dict[str, int],
    artifacts: list[str],
    status: str = "finished",
) -> None:
    """The run's totals, for the board and the CLI."""
    with session_scope(database_url) as session:
        session.execute(
            update(BatchRun)
            .where(col(BatchRun.batch_id) == batch_id)
            .values(
                status=status, finished_at=datetime.now(UTC), counts=counts, artifacts=artifacts
            )
        )


def record_progress(database_url: str, batch_id: str, method: str, done: int, total: int) -> None:
    """What the CLI's progress bars read."""
    with session_scope(database_url) as session:
        run = session.get(BatchRun, batch_id, with_for_update=True)
        if run is None:
            return
        counts = dict(run.counts or {})
        counts[f"{method}_done"], counts[f"{method}_total"] = done, total
        run.counts = counts
