"""Apply Alembic migrations (the only way the schema is created or changed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from runtime.settings import PROJECT_ROOT
from store.db import sqlalchemy_url


def alembic_config(url: str) -> Config:
    """Alembic config pointed at `url`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`."""
    command.upgrade(alembic_config(url), revision)
