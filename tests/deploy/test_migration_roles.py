"""Migrations run as the tables' owner (ROI_MIGRATION_DATABASE_URL); the app's role roi_app,
in ROI_DATABASE_URL, only checks the schema and then works with rows. As a deployment does it:
the migration Job (`python -m ops.bootstrap`), `roi migrate`, and a role made after the
first migration getting its grants at the next one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from config.settings import get_settings
from ops import bootstrap
from starter import app as roi
from store.postgres import LOCAL_APP_PASSWORD, ensure_login_role
from store.roles import APP_ROLE
from tests.conftest import _admin_and_test_url
from tests.deploy.conftest import target_of
from tests.infra import OWNER_PASSWORD, OWNER_ROLE, app_url_of, drop_database, owner_url_of


@pytest.fixture
def owned_db(server_url: str) -> Iterator[str]:
    """An empty database owned by roi_owner (not migrated); its plain URL. Both roles exist
    (a fresh server has neither)."""
    name = f"roi_roles_{uuid.uuid4().hex[:12]}"
    admin, url = _admin_and_test_url(server_url, name)
    ensure_login_role(admin, OWNER_ROLE, OWNER_PASSWORD)
    ensure_login_role(admin, APP_ROLE, LOCAL_APP_PASSWORD)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(OWNER_ROLE)
            )
        )
    yield url
    drop_database(admin, url)


@pytest.fixture
def two_urls(
    owned_db: str, monkeypatch: pytest.MonkeyPatch, deploy_env: WorkflowEnvironment
) -> Iterator[tuple[str, str]]:
    owner, app = owner_url_of(owned_db), app_url_of(owned_db)
    monkeypatch.setenv("ROI_MIGRATION_DATABASE_URL", owner)
    monkeypatch.setenv("ROI_DATABASE_URL", app)
    monkeypatch.setenv("ROI_TEMPORAL_ADDRESS", target_of(deploy_env))
    get_settings.cache_clear()
    yield owner, app
    get_settings.cache_clear()


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


async def test_the_migration_job_migrates_as_the_owner_and_the_app_only_checks(
    two_urls: tuple[str, str],
) -> None:
    owner, app = two_urls
    assert bootstrap.main(["--check"]) == 1  # read as roi_app: not migrated yet
    await bootstrap.bootstrap()
    assert bootstrap.main(["--check"]) == 0
    with psycopg.connect(_plain(app), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("roi_app",)
        conn.execute("SELECT count(*) FROM requests")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM request_events")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE alembic_version SET version_num = 'x'")
    with psycopg.connect(_plain(owner), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        assert tables == [(OWNER_ROLE,)]


def test_roi_migrate_runs_as_the_owner_and_grants_again_each_time(
    owned_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`roi migrate` takes the owner's URL; every run (re)grants roi_app, so a role created or
    stripped after the first migration is put right by the next one."""
    owner, app = owner_url_of(owned_db), app_url_of(owned_db)
    monkeypatch.setenv("ROI_MIGRATION_DATABASE_URL", owner)
    monkeypatch.setenv("ROI_DATABASE_URL", app)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        first = runner.invoke(roi, ["migrate"])
        assert first.exit_code == 0, first.output
        with psycopg.connect(_plain(owner), autocommit=True) as conn:
            conn.execute("REVOKE ALL ON requests FROM roi_app")  # as if roi_app came later
        with (
            psycopg.connect(_plain(app), autocommit=True) as conn,
            pytest.raises(errors.InsufficientPrivilege),
        ):
            conn.execute("SELECT count(*) FROM requests")
        again = runner.invoke(roi, ["migrate"])
        assert again.exit_code == 0, again.output
    finally:
        get_settings.cache_clear()
    with psycopg.connect(_plain(app), autocommit=True) as conn:
        conn.execute("SELECT count(*) FROM requests")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("TRUNCATE download_access_events")
