"""The site batch's rows: deliveries waiting for a site's mail/CD/FedEx run (`batch_items`,
once per delivery) and the runs themselves (`batch_runs`: when, what they built, how they
ended). The batch activities (activities/channels/batch.py) build the output; the board, the
batch page and `roi batch` read the runs. Every function runs in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col

from domain.types import IN_DELIVERY_STATUSES
from store.models import BatchItem, BatchRun, OutboundItem, RecordRequest

#: A batch item's stages: waiting for its run, sent by one, held (a release check stopped it),
#: withdrawn (its request no longer waits for the batch).
QUEUED, SENT, HELD, WITHDRAWN = "queued", "sent", "held", "withdrawn"
#: Stages of a request whose queued delivery its run still sends.
WAITING = tuple(sorted(s.value for s in IN_DELIVERY_STATUSES))


def queued_items(session: Session, site: str, method: str | None = None) -> list[BatchItem]:
    """Deliveries waiting for the site's batch, oldest first (the preview reads this too)."""
    query = select(BatchItem).where(col(BatchItem.site) == site, col(BatchItem.status) == QUEUED)
    if method:
        query = query.where(col(BatchItem.method) == method)
    return list(session.execute(query.order_by(col(BatchItem.queued_at))).scalars().all())


def enqueue(
    session: Session,
    *,
    delivery_key: str,
    request_id: str,
    workflow_id: str,
    site: str,
    method: str,
    delivery: dict[str, Any],
    now: datetime,
) -> None:
    """Hold a delivery for the site's next run, once per key: one held or withdrawn before is
    queued again, one sent never."""
    session.execute(
        insert(BatchItem)
        .values(
            delivery_key=delivery_key,
            request_id=request_id,
            workflow_id=workflow_id,
            site=site,
            method=method,
            delivery=delivery,
            queued_at=now,
            status=QUEUED,
        )
        .on_conflict_do_update(  # held or withdrawn before: queued again; sent: never
            index_elements=["delivery_key"],
            set_={
                "delivery": delivery,
                "queued_at": now,
                "status": QUEUED,
                "batch_id": None,
                "hold_reason": None,
                "signalled_at": None,
            },
            where=col(BatchItem.status).in_([HELD, WITHDRAWN]),
        )
    )


def record_run(
    session: Session, *, batch_id: str, site: str, trigger: str, skipped: bool, now: datetime
) -> None:
    """The run, once per batch id (a skipped one is finished at once)."""
    session.execute(
        insert(BatchRun)
        .values(
            batch_id=batch_id,
            site=site,
            started_at=now,
            status="skipped" if skipped else "running",
            trigger=trigger,
            counts={},
        )
        .on_conflict_do_nothing(index_elements=["batch_id"])
    )
    if skipped:
        session.execute(
            update(BatchRun).where(col(BatchRun.batch_id) == batch_id).values(finished_at=now)
        )


def set_run_counts(session: Session, batch_id: str, counts: dict[str, int]) -> None:
    """The run's counts so far (the totals the CLI's progress bars start from)."""
    session.execute(
        update(BatchRun).where(col(BatchRun.batch_id) == batch_id).values(counts=counts)
    )


def unsignalled(session: Session, site: str) -> list[BatchItem]:
    """Items of the site sent or held whose request was not told yet."""
    return list(
        session.execute(
            select(BatchItem).where(
                col(BatchItem.site) == site,
                col(BatchItem.status).in_([SENT, HELD]),
                col(BatchItem.signalled_at).is_(None),
            )
        )
        .scalars()
        .all()
    )


def claim_item(session: Session, key: str) -> tuple[BatchItem, str | None] | None:
    """The queued item with this key, locked (SKIP LOCKED: another run has it, None), and its
    request's stage."""
    item = session.execute(
        select(BatchItem)
        .where(col(BatchItem.delivery_key) == key, col(BatchItem.status) == QUEUED)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if item is None:
        return None
    status = session.execute(
        select(col(RecordRequest.status)).where(col(RecordRequest.id) == item.request_id)
    ).scalar_one_or_none()
    return item, status


def withdraw(item: BatchItem) -> None:
    """Its request no longer waits for the batch: the item is not sent."""
    item.status = WITHDRAWN


def hold(item: BatchItem, batch_id: str, codes: list[str]) -> None:
    """A release check stopped the item in this run (it waits for staff, then is queued
    again)."""
    item.status, item.batch_id, item.hold_reason = HELD, batch_id, ",".join(codes)


def mark_sent(
    session: Session,
    item: BatchItem,
    batch_id: str,
    *,
    channel: str,
    path: str,
    now: datetime,
    reference: str,
    carrier_tracking_number: str | None = None,
    pages: int | None = None,
) -> None:
    """The item left with this run: its reference (and carrier tracking number, pages) and
    the outbound item for the request's documents, once per key."""
    item.status, item.batch_id, item.sent_at, item.reference = SENT, batch_id, now, reference
    if carrier_tracking_number is not None:
        item.carrier_tracking_number = carrier_tracking_number
    if pages is not None:
        item.pages = pages
    session.execute(
        insert(OutboundItem)
        .values(
            item_key=item.delivery_key,
            request_id=item.request_id,
            channel=channel,
            kind=f"records_{item.method}",
            path=path,
            created_at=now,
            detail={"batch_id": batch_id, "reference": reference},
        )
        .on_conflict_do_nothing(index_elements=["item_key"])
    )
    session.flush()


def mark_signalled(session: Session, request_ids: list[str], now: datetime) -> int:
    """The requests' workflows were told of their items (a later run will not tell them
    again); how many items."""
    result = session.execute(
        update(BatchItem)
        .where(
            col(BatchItem.request_id).in_(request_ids),
            col(BatchItem.status).in_([SENT, HELD]),
            col(BatchItem.signalled_at).is_(None),
        )
        .values(signalled_at=now)
    )
    return cast(CursorResult[Any], result).rowcount or 0


def finish_run(
    session: Session,
    batch_id: str,
    *,
    status: str,
    now: datetime,
    counts: dict[str, int],
    artifacts: list[str],
) -> None:
    """The run's end and totals, for the board and the CLI."""
    session.execute(
        update(BatchRun)
        .where(col(BatchRun.batch_id) == batch_id)
        .values(status=status, finished_at=now, counts=counts, artifacts=artifacts)
    )


def record_progress(session: Session, batch_id: str, method: str, done: int, total: int) -> None:
    """What the CLI's progress bars read (the run's row locked while its counts change)."""
    run = session.get(BatchRun, batch_id, with_for_update=True)
    if run is None:
        return
    counts = dict(run.counts or {})
    counts[f"{method}_done"], counts[f"{method}_total"] = done, total
    run.counts = counts


def recent_runs(session: Session, site: str, limit: int) -> list[BatchRun]:
    """The site's last runs, newest first."""
    return list(
        session.execute(
            select(BatchRun)
            .where(col(BatchRun.site) == site)
            .order_by(col(BatchRun.started_at).desc())
            .limit(limit)
        ).scalars()
    )


def runs(session: Session, batch_ids: list[str]) -> list[BatchRun]:
    """These runs (those that exist)."""
    return list(
        session.execute(select(BatchRun).where(col(BatchRun.batch_id).in_(batch_ids))).scalars()
    )


def last_runs(session: Session, sites: list[str]) -> dict[str, BatchRun]:
    """Each site's last run that was not skipped."""
    return {
        run.site: run
        for run in session.execute(
            select(BatchRun)
            .where(col(BatchRun.site).in_(sites), col(BatchRun.status) != "skipped")
            .order_by(col(BatchRun.site), col(BatchRun.started_at).desc())
            .distinct(col(BatchRun.site))
        ).scalars()
    }


def waiting_counts(session: Session, sites: list[str]) -> dict[str, int]:
    """How many deliveries wait for each site's next run."""
    return dict(
        session.execute(
            select(col(BatchItem.site), func.count())
            .where(col(BatchItem.status) == QUEUED, col(BatchItem.site).in_(sites))
            .group_by(col(BatchItem.site))
        ).all()
    )
