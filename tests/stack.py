"""The real stack for integration and chaos tests: a Temporal dev server on a SQLite file,
worker PROCESSES (`worker.py`), a shared outbox, a records folder holding the test patients'
synthetic records (tests/records.py), and PostgreSQL.

Shared by tests/integration (durability) and tests/chaos, so both drive the engine the way
production runs it: separate processes that can be SIGKILLed and a server that can restart.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ops.devserver import start_dev_server
from tests.records import write_test_patients

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nothing listens on right now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """A dev server and worker processes sharing one SQLite file, database and outbox."""

    def __init__(self, tmp: Path, database_url: str, extra_env: dict[str, str] | None = None):
        self.tmp = tmp
        self.port = free_port()
        self.ui_port = free_port()
        self.db_file = tmp / "temporal.db"
        self.database_url = database_url
        self.task_queue = f"it-{uuid.uuid4().hex[:8]}"
        self.outbox = tmp / "outbox"
        self.records = write_test_patients(tmp / "records")  # what the record source holds
        self.extra_env = dict(extra_env or {})
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start_server(self) -> None:
        """Start (or start again) the dev server on the same port and SQLite file."""
        self.server = start_dev_server(
            self.db_file, port=self.port, ui_port=self.ui_port, log_file=self.tmp / "temporal.log"
        )

    def stop_server(self) -> None:
        assert self.server is not None
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=30)

    def worker_env(self, latency_ms: int = 0) -> dict[str, str]:
        """What a worker process sees: this stack's server, queue, database and outbox."""
        return {
            **os.environ,
            "ROI_DATABASE_URL": self.database_url,
            "ROI_TEMPORAL_ADDRESS": self.address,
            "ROI_TASK_QUEUE": self.task_queue,
            "ROI_OUTBOX_DIR": str(self.outbox),
            "ROI_OUTBOX_LATENCY_MS": str(latency_ms),
            "ROI_DATA_DIR": str(self.tmp / "data"),
            "ROI_RECORDS_DIR": str(self.records),
            **self.extra_env,
        }

    def start_worker(self, latency_ms: int = 0) -> subprocess.Popen[bytes]:
        """A new `python worker.py` process (its log in the stack's folder)."""
        log = open(self.tmp / f"worker{len(self.workers)}.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=ROOT,
            env=self.worker_env(latency_ms),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(worker)
        return worker

    def live_workers(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def close(self) -> None:
        for process in [*self.workers, self.server]:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


async def wait_for(
    predicate: Callable[[], Awaitable[Any]], timeout: float = 60, interval: float = 0.2
) -> Any:
    """Poll `predicate` until it returns something truthy (errors count as not yet: a server
    may be restarting)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            value = await predicate()
            if value:
                return value
        except Exception:  # the server may be restarting
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
