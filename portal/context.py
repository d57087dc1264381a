"""What every portal route needs: settings, the database URL and the Temporal client (both
resolved at start-up, or injected by tests), and the exceptions the app turns into pages."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import structlog
from fastapi import Request
from temporalio.client import Client

from config.settings import Settings
from portal.config import PortalSettings
from services.temporal import connect

log = structlog.get_logger(__name__)


class Refused(Exception):
    """A form that did not come from our own page (403, translated)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Limited(Exception):
    """Too many attempts from one address (429, translated, with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class NotReady(Exception):
    """The database is not resolved yet (503)."""


@dataclass
class PortalContext:
    """Shared by the routes of one app instance."""

    settings: Settings
    portal: PortalSettings
    database_url: str | None = None
    client: Client | None = None
    _lock: asyncio.Lock | None = field(default=None, repr=False)
    _last_attempt: float = field(default=-1e9, repr=False)

    def db(self) -> str:
        """The database URL (503 until the app has started)."""
        if self.database_url is None:
            raise NotReady()
        return self.database_url

    async def temporal(self) -> Client | None:
        """The Temporal client, connecting lazily at most every 10 seconds; None while Temporal
        is unreachable (intake then stores the request and `reconcile` starts it later)."""
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
                    log.warning("portal.temporal_unreachable", error=type(error).__name__)
        return self.client


def ctx_of(request: Request) -> PortalContext:
    """The app's context."""
    ctx: PortalContext = request.app.state.ctx
    return ctx
