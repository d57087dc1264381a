"""All configuration, from the environment (prefix ROI_); documented in README.md."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob the engine has; defaults run the local demo."""

    model_config = SettingsConfigDict(env_prefix="ROI_", extra="ignore")

    database_url: str | None = None  # None: start the embedded PostgreSQL under data_dir
    data_dir: Path = PROJECT_ROOT / ".data"
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "roi-requests"
    outbox_dir: Path | None = None  # None: data_dir / "outbox"
    outbox_latency_ms: int = 0  # simulated channel latency for local outboxes (tests, demos)
    log_level: str = "INFO"
    log_format: str = "json"  # json or console
    web_host: str = "127.0.0.1"
    web_port: int = 8000

    @property
    def outbox_path(self) -> Path:
        """Where local delivery channels write (letters, emails, print and ship jobs)."""
        return self.outbox_dir or self.data_dir / "outbox"


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
