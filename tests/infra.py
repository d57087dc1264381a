"""Throwaway infrastructure for tests: a migrated database of its own on the test PostgreSQL
server, and a Temporal time-skipping server of its own (from the installed binary).

Each test database is owned by `roi_owner` (a plain login role: the migrations need no
superuser) and the tests' app, workers and CLI connect as `roi_app`, the least-privilege role
production uses (store/roles.py). `owner_url_of` gives the owner's URL to the few tests that
must act as the owner (e.g. proving the append-only triggers hold even for it).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from services.temporal import converter
from store.migrate import upgrade
from store.postgres import LOCAL_APP_PASSWORD, ensure_login_role, url_as
from store.roles import APP_ROLE

BIN = Path(sys.executable).parent

#: The role that owns the tests' databases and runs their migrations (not a superuser).
OWNER_ROLE = "roi_owner"
OWNER_PASSWORD = "roi-owner-local-only"  # the test servers trust local connections anyway


def admin_and_database_url(base: str, name: str) -> tuple[str, str]:
    """The server's maintenance URL and the URL of database `name` on it."""
    url = make_url(base.replace("postgresql+psycopg://", "postgresql://"))
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    test = url.set(database=name).render_as_string(hide_password=False)
    return admin, test


def owner_url_of(url: str) -> str:
    """The URL of the same test database signed in as its owner (`roi_owner`)."""
    return url_as(url, OWNER_ROLE, OWNER_PASSWORD)


def app_url_of(url: str) -> str:
    """The URL of the same test database signed in as the app's role (`roi_app`)."""
    return url_as(url, APP_ROLE, LOCAL_APP_PASSWORD)


def create_migrated_database(admin: str, url: str) -> str:
    """Create the database at `url` owned by `roi_owner`, migrate it as the owner, and return
    the app role's URL for it (both roles are created on the server when missing)."""
    ensure_login_role(admin, OWNER_ROLE, OWNER_PASSWORD)
    ensure_login_role(admin, APP_ROLE, LOCAL_APP_PASSWORD)
    name = make_url(url).database or ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(OWNER_ROLE)
            )
        )
    upgrade(owner_url_of(url))
    return app_url_of(url)


def drop_database(admin: str, url: str) -> None:
    """Close this process's pools on the database, then drop it (other connections too)."""
    from store.db import engine_for

    for each in (app_url_of(url), owner_url_of(url), url):
        engine_for(each).dispose()
    name = make_url(url).database or ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextmanager
def migrated_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new database migrated to head, as the app's role sees it (its URL is `roi_app`'s);
    dropped (connections and all) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin, url = admin_and_database_url(server_url, name)
    app_url = create_migrated_database(admin, url)
    try:
        yield app_url
    finally:
        drop_database(admin, url)


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server (never downloaded), with our search attributes."""
    from ops.search_attributes import ensure_search_attributes

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=converter(),  # payloads sealed, as in production
    )
    try:
        await ensure_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()
