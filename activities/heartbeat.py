"""Heartbeat while a blocking call runs, so Temporal's heartbeat timeout means "the worker is
gone", never "the mail relay or the carrier is slow".

Without it a delivery that waits on a hung relay longer than the heartbeat timeout is timed out
while it is still running, Temporal starts a second attempt, and both send: two emails, two
FedEx shipments (the chaos suite, tests/chaos, found exactly that).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity


@contextmanager
def keep_heartbeating(every: float = 2.0) -> Iterator[None]:
    """Heartbeat from a helper thread every `every` seconds until the block ends."""
    context = contextvars.copy_context()  # the activity's context, for the helper thread
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            try:
                context.run(activity.heartbeat)
            except Exception:  # activity finished or worker shutting down: stop beating
                return

    thread = threading.Thread(target=beat, name="activity-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
