"""Fixtures of the deploy tests: a database and a Temporal test server of their own (so the
gauges they read count only their rows, and their open workflows never meet another test's
skipped clock)."""

from __future__ import annotations

import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.migrate import upgrade
from tests.conftest import _admin_and_test_url

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
    name = f"roi_deploy_{uuid.uuid4().hex[:12]}"
    admin, url = _admin_and_test_url(server_url, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    upgrade(url)
    yield url
    from store.db import engine_for

    engine_for(url).dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="package")
async def deploy_env() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal test server of our own; tests connect their own clients to it."""
    from runtime.search_attributes import ensure_search_attributes

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await ensure_search_attributes(env.client)
    yield env
    await env.shutdown()


def target_of(env: WorkflowEnvironment) -> str:
    """host:port of the test server, to connect a client the way the worker and web app do."""
    return env.client.service_client.config.target_host
