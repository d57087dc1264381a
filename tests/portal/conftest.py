"""Fixtures of the portal tests: their own database and Temporal test server (requests they
leave open never meet another test's skipped clock), a worker, and the portal app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from portal.config import PortalSettings
from portal.main import create_app
from tests.harness import Harness, running_worker
from tests.infra import migrated_database, time_skipping_server


@pytest.fixture(scope="package")
def portal_db(server_url: str) -> Iterator[str]:
    with migrated_database(server_url, "roi_portal") as url:
        yield url


@pytest.fixture(scope="package")
async def portal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal test server of our own, whose clock never skips."""
    async with time_skipping_server() as env:
        yield env


@pytest.fixture(scope="package")
async def portal_worker(
    portal_env: WorkflowEnvironment, portal_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Harness]:
    outbox = tmp_path_factory.mktemp("portal-outbox")
    async with running_worker(portal_env.client, portal_db, outbox, None) as harness:
        yield harness


def make_portal(
    database_url: str, env: WorkflowEnvironment, harness: Harness, **limits: int
) -> FastAPI:
    """A portal app on the test database and server; the per-address limits raised (every
    test shares one client address) unless a test sets its own."""
    settings = Settings(task_queue=harness.task_queue, outbox_dir=harness.outbox)
    portal = PortalSettings(
        **{"submissions_per_window": 10_000, "status_per_window": 10_000, **limits}
    )
    return create_app(
        settings, database_url=database_url, temporal_client=env.client, portal=portal
    )


@pytest.fixture(scope="package")
def portal_app(portal_db: str, portal_env: WorkflowEnvironment, portal_worker: Harness) -> FastAPI:
    return make_portal(portal_db, portal_env, portal_worker)
