"""One-shot set-up before a release starts: `python -m ops.bootstrap`.

Migrates the read model to the newest Alembic revision as the tables' owner
(ROI_MIGRATION_DATABASE_URL, else ROI_DATABASE_URL), grants the app's role (roi_app, see
store/roles.py) its privileges, and registers the engine's search attributes on the Temporal
namespace. Every step is idempotent, so the compose `migrate` service and the Kubernetes
migration Job run it on every deploy.

`python -m ops.bootstrap --check` changes nothing: it exits 0 only when the database is at
the revision this code expects (the Kubernetes pods' init container waits on it, so new code
never runs against an old schema).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import structlog
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from config.logging import configure_logging
from config.settings import get_settings
from ops.search_attributes import ensure_search_attributes
from services.temporal import connect
from store.db import engine_for
from store.migrate import alembic_config, upgrade

log = structlog.get_logger(__name__)


def _database_url(*, migrate: bool = False) -> str:
    """The owner's URL to migrate with (ROI_MIGRATION_DATABASE_URL, else ROI_DATABASE_URL);
    the app's to check the schema with (it may read alembic_version)."""
    settings = get_settings()
    if migrate:
        url = settings.migration_url
    else:
        url = settings.database_url or settings.migration_database_url
    if not url:
        raise SystemExit(
            "ROI_MIGRATION_DATABASE_URL (migrations, the tables' owner) or ROI_DATABASE_URL "
            "must be set (deployments use a managed PostgreSQL)"
        )
    return url


def at_head(url: str) -> bool:
    """Whether the database's Alembic revision is the newest this code knows."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with engine_for(url).connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == heads


async def bootstrap() -> None:
    """Migrate PostgreSQL, then make sure the namespace knows the search attributes."""
    settings = get_settings()
    url = _database_url(migrate=True)
    upgrade(url)  # as the owner; then grants the app role (roi_app) what it needs
    log.info("bootstrap.migrated")
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await ensure_search_attributes(client)
    log.info("bootstrap.search_attributes", namespace=settings.temporal_namespace)


def main(argv: list[str] | None = None) -> int:
    """Run the set-up, or with --check only report whether the schema is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 unless at the newest schema")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.check:
        current = at_head(_database_url())
        log.info("bootstrap.schema_checked", current=current)
        return 0 if current else 1
    asyncio.run(bootstrap())
    return 0


if __name__ == "__main__":
    status = main()
    # As worker.py does: leave without interpreter finalization, which the Temporal SDK's
    # native threads can otherwise touch while it is torn down (a crash at exit).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
