"""Fixtures of the web tests: their own database and Temporal test server (so requests they
leave open never meet another test's skipped clock), a worker, accounts, and the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from app.config import WebSettings
from app.main import create_app
from config.settings import Settings
from tests.harness import Harness, running_worker
from tests.infra import migrated_database, time_skipping_server
from tests.web.helpers import PASSWORD, add_staff

#: label -> (username, role, sites)
ACCOUNTS: dict[str, tuple[str, str, list[str] | str]] = {
    "specialist": ("web.spec", "specialist", "all"),
    "specialist_az": ("web.spec.az", "specialist", ["arizona"]),
    "specialist2": ("web.spec2", "specialist", "all"),
    "supervisor": ("web.sup", "supervisor", "all"),
    "amendment": ("web.amend", "amendment_specialist", "all"),
    "integrity": ("web.integ", "data_integrity_specialist", "all"),
    "admin": ("web.admin", "admin", "all"),
    "privacy": ("web.privacy", "privacy_officer", "all"),
}


@dataclass
class Staff:
    ids: dict[str, str]
    names: dict[str, str]


@pytest.fixture(scope="package")
def web_db(server_url: str) -> Iterator[str]:
    with migrated_database(server_url, "roi_web") as url:
        yield url


@pytest.fixture(scope="package")
def staff(web_db: str) -> Staff:
    ids = {
        label: add_staff(web_db, username, PASSWORD, role, sites)
        for label, (username, role, sites) in ACCOUNTS.items()
    }
    return Staff(ids=ids, names={label: a[0] for label, a in ACCOUNTS.items()})


@pytest.fixture(scope="package")
async def web_env() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal test server of our own, whose clock never skips (no test awaits a result)."""
    async with time_skipping_server() as env:
        yield env


@pytest.fixture(scope="package")
async def web_worker(
    web_env: WorkflowEnvironment, web_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Harness]:
    outbox = tmp_path_factory.mktemp("web-outbox")
    async with running_worker(web_env.client, web_db, outbox, None) as harness:
        yield harness


@pytest.fixture(scope="package")
def web_settings() -> WebSettings:
    # Every test of the package shares this app and its client addresses: the per-address and
    # per-token throttles are raised here and tested at their defaults on apps of their own
    # (tests/hostile/test_throttle_attacks.py); the per-account sign-in limit stays as it is.
    return WebSettings(
        cookie_secure=True,
        board_refresh_seconds=5,
        login_address_max_failures=10_000,
        download_max_failures=10_000,
        api_max_failures=10_000,
        api_requests_per_minute=100_000,
        throttle_base_delay_seconds=30,  # a slow run never outlasts a wait between attempts
    )


@pytest.fixture(scope="package")
def web_app(
    web_db: str,
    web_env: WorkflowEnvironment,
    web_worker: Harness,
    web_settings: WebSettings,
    staff: Staff,
) -> FastAPI:
    # the worker's own record folder: a packet preview reads what the release would send
    settings = Settings(
        task_queue=web_worker.task_queue,
        outbox_dir=web_worker.outbox,
        records_dir=web_worker.records,
    )
    return create_app(
        settings, database_url=web_db, temporal_client=web_env.client, web=web_settings
    )
