"""Fixtures of the web tests: their own database and Temporal test server (so requests they
leave open never meet another test's skipped clock), a worker, accounts, and the app."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from psycopg import sql
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.accounts import create_user
from app.config import WebSettings
from app.main import create_app
from runtime.settings import Settings
from store.migrate import upgrade
from tests.conftest import _admin_and_test_url
from tests.harness import Harness, running_worker
from tests.web.helpers import PASSWORD

BIN = Path(sys.executable).parent

#: label -> (username, role, sites)
ACCOUNTS: dict[str, tuple[str, str, list[str] | str]] = {
    "specialist": ("web.spec", "specialist", "all"),
    "specialist_az": ("web.spec.az", "specialist", ["arizona"]),
    "specialist2": ("web.spec2", "specialist", "all"),
    "supervisor": ("web.sup", "supervisor", "all"),
    "amendment": ("web.amend", "amendment_specialist", "all"),
    "integrity": ("web.integ", "data_integrity_specialist", "all"),
    "admin": ("web.admin", "admin", "all"),
}


@dataclass
class Staff:
    ids: dict[str, str]
    names: dict[str, str]


@pytest.fixture(scope="package")
def web_db(server_url: str) -> Iterator[str]:
    name = f"roi_web_{uuid.uuid4().hex[:12]}"
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
def staff(web_db: str) -> Staff:
    ids = {
        label: create_user(web_db, username, PASSWORD, role, sites)
        for label, (username, role, sites) in ACCOUNTS.items()
    }
    return Staff(ids=ids, names={label: a[0] for label, a in ACCOUNTS.items()})


@pytest.fixture(scope="package")
async def web_env() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal test server of our own, whose clock never skips (no test awaits a result)."""
    from runtime.search_attributes import ensure_search_attributes

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await ensure_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="package")
async def web_worker(
    web_env: WorkflowEnvironment, web_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Harness]:
    outbox = tmp_path_factory.mktemp("web-outbox")
    async with running_worker(web_env.client, web_db, outbox, None) as harness:
        yield harness


@pytest.fixture(scope="package")
def web_settings() -> WebSettings:
    return WebSettings(cookie_secure=True, board_refresh_seconds=5)


@pytest.fixture(scope="package")
def web_app(
    web_db: str,
    web_env: WorkflowEnvironment,
    web_worker: Harness,
    web_settings: WebSettings,
    staff: Staff,
) -> FastAPI:
    settings = Settings(task_queue=web_worker.task_queue, outbox_dir=web_worker.outbox)
    return create_app(
        settings, database_url=web_db, temporal_client=web_env.client, web=web_settings
    )
