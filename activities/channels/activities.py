"""Activities of fulfillment beyond `deliver`: shipment tracking and the site batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from temporalio import activity

from activities import names
from activities.channels import batch
from activities.channels.dispatch import Channels
from domain.batch import BatchBuild, BatchOutcome, BatchPlan, BatchStart, BatchSummary
from domain.effects import ShipmentQuery, ShipmentStatus

log = structlog.get_logger(__name__)


class ChannelActivities:
    """Tracking and batch activities, wired to the same channels as `deliver`."""

    def __init__(self, database_url: str, channels: Channels) -> None:
        self.database_url = database_url
        self.channels = channels

    @activity.defn(name=names.TRACK_SHIPMENT)
    def track_shipment(self, query: ShipmentQuery) -> ShipmentStatus:
        """The carrier's latest word on a shipment (reading is safe to repeat)."""
        if self.channels.carrier is None:
            return ShipmentStatus(tracking_number=query.tracking_number, status="unknown")
        tracking = self.channels.carrier.track(query.tracking_number)
        log.info("shipment.tracked", request_id=query.request_id, status=tracking.status)
        return ShipmentStatus(
            tracking_number=query.tracking_number,
            status=tracking.status,
            delivered_at=tracking.delivered_at,
            detail=tracking.code,
        )

    @activity.defn(name=names.BATCH_START)
    def batch_start(self, start: BatchStart) -> BatchPlan:
        """Record the run and plan it."""
        plan = batch.start_run(self.database_url, start)
        log.info("batch.started", batch_id=start.batch_id, site=start.site, queued=plan.queued)
        return plan

    @activity.defn(name=names.BATCH_BUILD)
    def batch_build(self, job: BatchBuild) -> list[BatchOutcome]:
        """Build and send one method's output; heartbeats carry progress."""

        def progress(done: int, total: int) -> None:
            activity.heartbeat(done, total)
            if done == total or done % 25 == 0:
                batch.record_progress(
                    self.database_url, job.batch_id, job.method.value, done, total
                )

        builder = batch.BatchBuilder(self.database_url, self.channels, progress)
        outcomes = [o for o in builder.build(job) if o is not None]
        log.info(
            "batch.built",
            batch_id=job.batch_id,
            method=job.method.value,
            sent=sum(o.sent for o in outcomes),
            held=sum(not o.sent for o in outcomes),
        )
        return outcomes

    @activity.defn(name=names.BATCH_MARK_SIGNALLED)
    def batch_mark_signalled(self, request_ids: list[str]) -> int:
        return batch.mark_signalled(self.database_url, request_ids)

    @activity.defn(name=names.BATCH_FINISH)
    def batch_finish(self, summary: BatchSummary) -> None:
        batch.finish_run(
            self.database_url,
            summary.batch_id,
            summary.counts,
            summary.artifacts,
            summary.status,
        )
        log.info("batch.finished", batch_id=summary.batch_id, counts=summary.counts)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.track_shipment,
            self.batch_start,
            self.batch_build,
            self.batch_mark_signalled,
            self.batch_finish,
        ]
