"""Throwaway infrastructure for tests: a migrated database of its own on the test PostgreSQL
server, and a Temporal time-skipping server of its own (from the installed binary)."""

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

BIN = Path(sys.executable).parent


def admin_and_database_url(base: str, name: str) -> tuple[str, str]:
    """The server's maintenance URL and the URL of database `name` on it."""
    url = make_url(base.replace("postgresql+psycopg://", "postgresql://"))
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    test = url.set(database=name).render_as_string(hide_password=False)
    return admin, test


@contextmanager
def migrated_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new database migrated to head; dropped (connections and all) afterwards."""
    from store.db import engine_for

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin, url = admin_and_database_url(server_url, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    upgrade(url)
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server (never downloaded), with our search attributes."""
    from runtime.search_attributes import ensure_search_attributes

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=converter(),  # payloads sealed, as in production
    )
    try:
        await ensure_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()
