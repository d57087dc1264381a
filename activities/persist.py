"""Write down what was just sent, however long the database is away.

Once an email has gone or a shipment exists, failing the activity because PostgreSQL is down
would make Temporal retry it, and the retry would send again. So the record of an irreversible
send is retried in place (the activity keeps heartbeating meanwhile) until it is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import structlog
from sqlalchemy.exc import OperationalError

log = structlog.get_logger(__name__)
T = TypeVar("T")


def persist_after_send(write: Callable[[], T], *, give_up_after: float = 300.0) -> T:
    """Run `write` until the database takes it (connection errors only; others raise)."""
    deadline = time.monotonic() + give_up_after
    delay = 0.5
    while True:
        try:
            return write()
        except OperationalError as error:  # the database is unreachable or restarting
            if time.monotonic() > deadline:
                raise
            log.warning("persist.retry_after_send", error=type(error.orig).__name__, delay_s=delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
