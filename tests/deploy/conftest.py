"""Fixtures of the deploy tests: a database and a Temporal test server of their own (so the
gauges they read count only their rows, and their open workflows never meet another test's
skipped clock)."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.infra import migrated_database, time_skipping_server

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

#: Temporal SDK metric names (PrometheusConfig with seconds and `_total`) that the alert rules,
#: dashboards and runbook rely on; test_worker_metrics checks a real worker reports them all.
SDK_METRICS = frozenset(
    {
        "temporal_workflow_completed_total",
        "temporal_activity_execution_latency_bucket",
        "temporal_activity_schedule_to_start_latency_bucket",
        "temporal_workflow_task_schedule_to_start_latency_bucket",
        "temporal_worker_task_slots_available",
        "temporal_worker_task_slots_used",
        "temporal_num_pollers",
        "temporal_sticky_cache_size",
    }
)
#: Counters the SDK only reports once something has failed (so a clean run cannot show them):
#: names as documented in Temporal's SDK metrics reference, with the `_total` suffix.
SDK_FAILURE_METRICS = frozenset(
    {
        "temporal_activity_execution_failed_total",
        "temporal_workflow_task_execution_failed_total",
        "temporal_workflow_failed_total",
        "temporal_request_failure_total",
    }
)


def free_port() -> int:
    """A port nothing listens on right now (for a metrics endpoint under test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="package")
def deploy_db(server_url: str) -> Iterator[str]:
    with migrated_database(server_url, "roi_deploy") as url:
        yield url


@pytest.fixture(scope="package")
async def deploy_env() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal test server of our own; tests connect their own clients to it."""
    async with time_skipping_server() as env:
        yield env


def target_of(env: WorkflowEnvironment) -> str:
    """host:port of the test server, to connect a client the way the worker and web app do."""
    return env.client.service_client.config.target_host
