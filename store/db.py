"""Engine and sessions for the read model; the URL comes from settings or embedded PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session


def sqlalchemy_url(url: str) -> str:
    """Use the psycopg 3 driver whatever the scheme the URL was given with."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("ROI_DATABASE_URL must be a postgresql:// URL")


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per database URL per process."""
    return create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=10, max_overflow=10)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine_for(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def reachable(url: str | None) -> bool:
    """Whether the database answers a trivial query (readiness probes)."""
    if url is None:
        return False
    try:
        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
