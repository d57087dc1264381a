"""The worker: runs RecordRequestWorkflow and its activities against Temporal and PostgreSQL.

python worker.py            # uses ROI_* settings (see README)
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from activities.channels.activities import ChannelActivities
from activities.channels.wiring import build_channels
from activities.imap_poll import MailboxActivities, mailbox_from
from activities.ocr import InboundActivities
from activities.outbox import Outbox
from activities.outside_records import OutsideRecordsActivities
from activities.request_activities import RequestActivities
from config import metrics, tracing
from config.bytecode import precompile_workflows
from config.logging import configure_logging
from config.production import Component, refuse_demo_settings
from config.settings import Settings, get_settings
from domain.calendar import warm_calendars
from services import inbound, intake
from services.schedule import ensure_batch_schedules
from services.temporal import connect
from store.postgres import resolve_database_url
from workflows.registry import WORKFLOWS
from workflows.runner import workflow_runner

log = structlog.get_logger(__name__)


def build_worker(
    client: Client,
    task_queue: str,
    activities: list[Callable[..., Any]],
    executor: ThreadPoolExecutor,
    max_cached_workflows: int = 250,
    sandboxed: bool = True,
) -> Worker:
    """A worker with every workflow and activity of the engine registered.

    Its memory follows the sticky workflow cache, not the number of open requests (most wait
    on timers for weeks): a capped cache keeps a worker's RSS bounded, at the cost of replaying
    an evicted request's history when its next timer fires.
    """
    warm_calendars()
    precompile_workflows()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(sandboxed),
        activities=activities,
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
        max_cached_workflows=max_cached_workflows,
    )


def make_activities(settings: Settings, database_url: str) -> list[Callable[..., Any]]:
    """Every activity, wired to this process's database and outbox."""
    outbox = Outbox(settings.outbox_path)
    channels = build_channels(settings, database_url, outbox)
    requests = RequestActivities(
        database_url, outbox, channels=channels, latency_ms=settings.outbox_latency_ms
    )
    return [
        *requests.all(),
        *CaseActivities(database_url, outbox).all(),
        *ChannelActivities(database_url, channels).all(),
        *OutsideRecordsActivities(database_url, outbox, channels.mailer).all(),
        *InboundActivities(database_url, settings.inbound_ocr_languages).all(),
        *MailboxActivities(database_url, mailbox_from(settings)).all(),
    ]


async def reconcile_when_possible(database_url: str, client: Client, task_queue: str) -> None:
    """Start accepted submissions whose workflow never started, retrying until the database
    answers (a worker must not die because PostgreSQL is briefly down when it starts)."""
    delay = 1.0
    while True:
        try:
            restarted = await intake.reconcile(database_url, client, task_queue)
        except Exception as error:  # database or Temporal unavailable: try again later
            log.warning("worker.reconcile_retry", error=type(error).__name__, delay_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
            continue
        log.info("worker.reconciled", started=len(restarted))
        return


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    refuse_demo_settings(settings, Component.WORKER)  # outside local/test: exits here
    database_url = resolve_database_url(settings.database_url, settings.data_dir)
    tracing.configure(settings, "roi-worker")  # ROI_OTEL_EXPORTER; off by default
    if settings.worker_metrics_port:  # our counters; the SDK's come from the runtime below
        metrics.serve_process_metrics(settings.metrics_host, settings.worker_metrics_port)
    client = await connect(
        settings.temporal_address,
        settings.temporal_namespace,
        runtime=metrics.temporal_runtime(settings.metrics_host, settings.temporal_metrics_port),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=32) as executor:
        worker = build_worker(
            client,
            settings.task_queue,
            make_activities(settings, database_url),
            executor,
            max_cached_workflows=settings.worker_workflow_cache,
            sandboxed=settings.workflow_sandbox,
        )
        async with worker:
            log.info("worker.started", task_queue=settings.task_queue)
            # in the background: a worker started while PostgreSQL is down still serves Temporal
            reconciling = asyncio.create_task(
                reconcile_when_possible(database_url, client, settings.task_queue)
            )
            if settings.batch_enabled:
                schedules = await ensure_batch_schedules(
                    client, settings.task_queue, settings.batch_time
                )
                log.info("worker.batch_schedules", schedules=len(schedules))
            # the ROI mailbox (when configured), and documents whose reading never started
            every = timedelta(seconds=max(30, settings.inbound_poll_seconds))
            await inbound.ensure_poll_schedule(client, settings.task_queue, every)
            await stop.wait()
            reconciling.cancel()
            log.info("worker.stopping")
    tracing.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
    # The worker has drained and shut down cleanly. Leave without interpreter finalization:
    # the SDK's native threads can otherwise touch the interpreter while it is torn down.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
