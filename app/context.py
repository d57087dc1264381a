"""The app's shared state (settings, database URL, Temporal client, templates) and its errors."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from temporalio.client import Client

from app.config import WebSettings
from config.settings import Settings
from services.temporal import connect

log = structlog.get_logger(__name__)

HERE = Path(__file__).resolve().parent


class NotSignedIn(Exception):
    """No valid session: 401 (a page with the sign-in form, or JSON for the API)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("not signed in")
        self.expired = expired


class Forbidden(Exception):
    """Signed in, but this account may not do that: 403 (and a security event, with `reason`:
    `role`, or `site` for another site's or team's request)."""

    def __init__(
        self, message: str = "Your account does not have access to this page.", reason: str = "role"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class CsrfRejected(Exception):
    """A form or API call without the right anti-forgery token (`reason` token), or from
    another site's page (`reason` origin): 403, and a security event."""

    def __init__(self, reason: str = "token") -> None:
        super().__init__("cross-site request refused")
        self.reason = reason


class NotFound(Exception):
    """404 with the app's own page."""


class TooManyAttempts(Exception):
    """Throttled: 429."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("too many attempts")
        self.retry_after = retry_after_seconds


class Unavailable(Exception):
    """A dependency (database, Temporal) is not reachable: 503."""


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "xml", "svg"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


@dataclass
class AppContext:
    settings: Settings
    web: WebSettings
    database_url: str | None = None
    client: Client | None = None
    templates: Jinja2Templates = field(default_factory=make_templates)
    _lock: asyncio.Lock | None = None
    _last_attempt: float = 0.0

    def db(self) -> str:
        """The database URL (503 until the app has started)."""
        if self.database_url is None:
            raise Unavailable("database not ready")
        return self.database_url

    async def temporal(self) -> Client | None:
        """The Temporal client, connecting (again) lazily at most every 10 seconds."""
        if self.client is not None:
            return self.client
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.client is None and time.monotonic() - self._last_attempt > 10:
                self._last_attempt = time.monotonic()
                try:
                    self.client = await asyncio.wait_for(
                        connect(self.settings.temporal_address, self.settings.temporal_namespace),
                        timeout=10,
                    )
                except Exception as error:
                    log.warning("web.temporal_unreachable", error=type(error).__name__)
        return self.client
