"""Apply Alembic migrations (the only way the schema is created or changed).

Migrations run as the role that owns the tables (ROI_MIGRATION_DATABASE_URL); afterwards the
app's role (store/roles.py) is granted what it needs, so it can be created at any time.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from config.settings import PROJECT_ROOT
from store.db import sqlalchemy_url
from store.roles import grant_app_privileges


def alembic_config(url: str) -> Config:
    """Alembic config pointed at `url`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` (the owner's URL) up to `revision`, then (re)grant the app
    role its privileges."""
    command.upgrade(alembic_config(url), revision)
    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            grant_app_privileges(connection)
    finally:
        engine.dispose()
