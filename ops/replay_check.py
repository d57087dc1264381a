"""Replay real workflow histories against new workflow code before it is rolled out.

    python -m ops.replay_check                          # running workflows, up to 500
    python -m ops.replay_check --query "WorkflowType='RecordRequestWorkflow'" --limit 50
    python -m ops.replay_check --workflow-id roi-01j...  # particular workflows

Run it with the NEW image against the production namespace (deploy/k8s/jobs/replay-check-job.yaml)
before the worker rollout: a non-deterministic change fails here instead of stalling live
requests. Histories carry PHI in their payloads, so they are read and replayed inside the
cluster and never written anywhere; the output names workflow ids and failure types only.
Exit status 0: every history replayed; 1: at least one would break.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator

import structlog
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from config.logging import configure_logging
from config.settings import get_settings
from domain.calendar import warm_calendars
from services.temporal import connect, converter
from workflows.runner import workflow_runner

log = structlog.get_logger(__name__)

DEFAULT_QUERY = "ExecutionStatus='Running'"


async def histories(
    client: Client, query: str | None, workflow_ids: list[str], limit: int
) -> AsyncIterator[WorkflowHistory]:
    """The histories to check: the given workflows, else those the visibility query finds."""
    if workflow_ids:
        for workflow_id in workflow_ids:
            yield await client.get_workflow_handle(workflow_id).fetch_history()
        return
    async for history in client.list_workflows(query, limit=limit).map_histories():
        yield history


async def replay(found: AsyncIterator[WorkflowHistory]) -> tuple[int, list[str]]:
    """Replay each history with this code's workflows; (how many replayed, ids that failed)."""
    from workflows.registry import WORKFLOWS

    warm_calendars()
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=converter(),  # histories are sealed: open them here, in-cluster
        workflow_runner=workflow_runner(),
    )
    checked, failed = 0, []
    async with replayer.workflow_replay_iterator(found) as results:
        async for result in results:
            checked += 1
            if result.replay_failure is not None:
                failed.append(result.history.workflow_id)
                log.error(
                    "replay.failed",
                    workflow_id=result.history.workflow_id,
                    error=type(result.replay_failure).__name__,
                )
    return checked, failed


async def run(query: str | None, workflow_ids: list[str], limit: int) -> int:
    """Connect with the ROI_* settings, replay, and report; the process's exit status."""
    settings = get_settings()
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    checked, failed = await replay(histories(client, query, workflow_ids, limit))
    log.info("replay.finished", checked=checked, failed=len(failed))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--query", default=DEFAULT_QUERY, help="Temporal visibility query")
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--workflow-id", action="append", default=[], dest="workflow_ids")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(run(args.query, args.workflow_ids, args.limit))


if __name__ == "__main__":
    status = main()
    # As worker.py does: leave without interpreter finalization, which the Temporal SDK's
    # native threads can otherwise touch while it is torn down (a crash at exit).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
