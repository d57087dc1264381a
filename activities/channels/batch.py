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

import structlog
from sqlmodel import Session

from activities.channels.dispatch import Channels
from activities.channels.mail import MailBatchFile
from activities.channels.packet import ReleaseHeld
from domain.batch import BatchBuild, BatchOutcome, BatchPlan, BatchStart
from domain.effects import Delivery
from domain.types import DeliveryMethod
from store import batch as rows
from store.batch import queued_items
from store.db import session_scope
from store.models import BatchItem

log = structlog.get_logger(__name__)

__all__ = [
    "BatchBuilder",
    "finish_run",
    "mark_signalled",
    "queued_items",
    "record_progress",
    "start_run",
]


def start_run(database_url: str, start: BatchStart) -> BatchPlan:
    """Record the run (once per batch id) and say what it will do."""
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        rows.record_run(
            session,
            batch_id=start.batch_id,
            site=start.site,
            trigger=start.trigger,
            skipped=start.skipped,
            now=now,
        )
        if start.skipped:
            return BatchPlan(batch_id=start.batch_id, site=start.site)
        queued: dict[str, int] = {}
        for item in queued_items(session, start.site):
            queued[item.method] = queued.get(item.method, 0) + 1
        # the totals the CLI's progress bars start from
        rows.set_run_counts(session, start.batch_id, {f"{m}_total": n for m, n in queued.items()})
        return BatchPlan(
            batch_id=start.batch_id,
            site=start.site,
            queued=queued,
            unsignalled=[_outcome(i) for i in rows.unsignalled(session, start.site)],
        )


def _outcome(item: BatchItem) -> BatchOutcome:
    return BatchOutcome(
        request_id=item.request_id,
        workflow_id=item.workflow_id,
        method=item.method,
        sent=item.status == rows.SENT,
        reference=item.reference,
        carrier_tracking_number=item.carrier_tracking_number,
        pages=item.pages,
        codes=(item.hold_reason or "").split(",") if item.status == rows.HELD else [],
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
        claimed = rows.claim_item(session, key)
        if claimed is None:
            return None
        item, status = claimed
        if status not in rows.WAITING:
            rows.withdraw(item)
            return None
        return item, Delivery.model_validate(item.delivery)

    def _hold(self, item: BatchItem, error: ReleaseHeld, batch_id: str) -> BatchOutcome:
        codes = [str(d.get("code")) for d in error.details if isinstance(d, dict)]
        rows.hold(item, batch_id, codes)
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
            tracking = None
            if job.method == DeliveryMethod.FEDEX:
                self.channels.require_paid(delivery)
                tracking, label = self.channels.ship(delivery, packet, today)
                reference, channel, path = tracking, "ship", str(label)
            else:
                path_, _ = self.channels.write_cd(delivery, packet)
                reference, channel, path = path_.name, "cd", str(path_)
            rows.mark_sent(
                session,
                item,
                job.batch_id,
                channel=channel,
                path=path,
                now=datetime.now(UTC),
                reference=reference,
                carrier_tracking_number=tracking,
            )
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
            taken: list[tuple[BatchItem, str, int]] = []  # item, its pages' reference, pages
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
                reference = f"{job.batch_id}:p{line.first_page}-{line.last_page}"
                taken.append((item, reference, line.last_page - line.first_page + 1))
                self.progress(n, len(keys))
            if taken:
                batch.close()
                pdf = outbox.path_for("print", name, ".pdf")
                outbox.write("print", f"{name}-manifest", ".csv", batch.manifest_csv())
                for item, reference, pages in taken:
                    rows.mark_sent(
                        session,
                        item,
                        job.batch_id,
                        channel="print",
                        path=str(pdf),
                        now=datetime.now(UTC),
                        reference=reference,
                        pages=pages,
                    )
                    outcomes.append(_outcome(item))
        return outcomes


def mark_signalled(database_url: str, request_ids: list[str]) -> int:
    """The request workflows were told (a later run will not tell them again)."""
    if not request_ids:
        return 0
    with session_scope(database_url) as session:
        return rows.mark_signalled(session, request_ids, datetime.now(UTC))


def finish_run(
    database_url: str,
    batch_id: str,
    counts: dict[str, int],
    artifacts: list[str],
    status: str = "finished",
) -> None:
    """The run's totals, for the board and the CLI."""
    with session_scope(database_url) as session:
        rows.finish_run(
            session,
            batch_id,
            status=status,
            now=datetime.now(UTC),
            counts=counts,
            artifacts=artifacts,
        )


def record_progress(database_url: str, batch_id: str, method: str, done: int, total: int) -> None:
    """What the CLI's progress bars read."""
    with session_scope(database_url) as session:
        rows.record_progress(session, batch_id, method, done, total)
