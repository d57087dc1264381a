"""The one-shot set-up a deployment runs before starting workers and web replicas."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from temporalio.testing import WorkflowEnvironment

from config.settings import get_settings
from ops import bootstrap
from tests.conftest import _admin_and_test_url
from tests.deploy.conftest import target_of


@pytest.fixture
def empty_db(server_url: str) -> Iterator[str]:
    name = f"roi_boot_{uuid.uuid4().hex[:12]}"
    admin, url = _admin_and_test_url(server_url, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield url
    from store.db import engine_for

    engine_for(url).dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def env_settings(
    monkeypatch: pytest.MonkeyPatch, empty_db: str, deploy_env: WorkflowEnvironment
) -> Iterator[None]:
    monkeypatch.setenv("ROI_DATABASE_URL", empty_db)
    monkeypatch.setenv("ROI_TEMPORAL_ADDRESS", target_of(deploy_env))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_bootstrap_migrates_and_registers_search_attributes(
    env_settings: None, empty_db: str
) -> None:
    assert bootstrap.main(["--check"]) == 1  # a new database is not at the newest schema
    assert not bootstrap.at_head(empty_db)

    await bootstrap.bootstrap()
    await bootstrap.bootstrap()  # every deploy runs it again: nothing changes the second time

    assert bootstrap.main(["--check"]) == 0
    # (the test server cannot list search attributes; registering them again was accepted)


def test_bootstrap_refuses_without_a_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROI_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit, match="ROI_DATABASE_URL"):
            bootstrap.main(["--check"])
    finally:
        get_settings.cache_clear()
