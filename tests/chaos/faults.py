"""Fault injection for the chaos run: at seeded random moments while the workload runs, SIGKILL
worker processes, restart the Temporal server, stop PostgreSQL, cut the SMTP server and the
carrier off; a supervisor restarts dead workers the way systemd or Kubernetes would."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from services.temporal import connect
from tests.chaos.infra import CarrierFake, OwnPostgres, SmtpFake
from tests.chaos.workload import ClientBox
from tests.stack import Stack


@dataclass
class Injected:
    """One kind of fault: how many times, when (seconds into the run) and for how long."""

    fault: str
    at: list[float] = field(default_factory=list)
    down_s: list[float] = field(default_factory=list)

    def when(self) -> str:
        spans = [
            f"{a:.1f}s" + (f" (+{d:.1f}s)" if d else "")
            for a, d in zip(self.at, self.down_s or [0.0] * len(self.at), strict=False)
        ]
        return ", ".join(spans) or "-"


@dataclass
class ChaosConfig:
    workers: int
    kills: int
    temporal_restarts: int
    pg_down_s: float
    cut_s: float
    window_s: float


class Chaos:
    """Runs the faults against one stack; `log` is what the run reports."""

    def __init__(
        self,
        stack: Stack,
        pg: OwnPostgres,
        smtp: SmtpFake,
        carrier: CarrierFake,
        box: ClientBox,
        rng: random.Random,
        config: ChaosConfig,
    ) -> None:
        self.stack = stack
        self.pg = pg
        self.smtp = smtp
        self.carrier = carrier
        self.box = box
        self.rng = rng
        self.config = config
        self.t0 = time.monotonic()
        self.log: dict[str, Injected] = {
            name: Injected(name)
            for name in (
                "worker SIGKILL",
                "Temporal server restart",
                "PostgreSQL stopped",
                "SMTP cut off (refused, then hung)",
                "FedEx cut off (refused, then hung)",
                "worker restarted by supervisor",
            )
        }
        self.unexpected_exits = 0
        self._killed: set[int] = set()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def schedule(self) -> list[tuple[float, str, Callable[[], object]]]:
        """Every fault at a random moment of the window (seeded)."""
        w = self.config.window_s
        plan: list[tuple[float, str, Callable[[], object]]] = []
        for _ in range(self.config.kills):
            plan.append((self.rng.uniform(0.05 * w, 0.9 * w), "kill", self.kill_worker))
        for _ in range(self.config.temporal_restarts):
            plan.append((self.rng.uniform(0.1 * w, 0.8 * w), "temporal", self.restart_temporal))
        if self.config.pg_down_s:
            plan.append((self.rng.uniform(0.1 * w, 0.7 * w), "pg", self.postgres_outage))
        if self.config.cut_s:
            plan.append((self.rng.uniform(0.1 * w, 0.7 * w), "smtp", self.smtp_outage))
            plan.append((self.rng.uniform(0.1 * w, 0.7 * w), "carrier", self.carrier_outage))
        return sorted(plan, key=lambda p: p[0])

    async def run(self) -> None:
        """Fire every fault at its moment (outages overlap when their moments do)."""
        tasks = []
        for at, _, action in self.schedule():
            await asyncio.sleep(max(0.0, at - self.now()))
            tasks.append(asyncio.create_task(action()))  # type: ignore[arg-type]
        await asyncio.gather(*tasks)

    async def supervise(self, stop: asyncio.Event) -> None:
        """Keep `workers` worker processes alive: a dead one is replaced within a second or two."""
        while not stop.is_set():
            for worker in list(self.stack.workers):
                code = worker.poll()
                if code is not None and not getattr(worker, "replaced", False):
                    worker.replaced = True  # type: ignore[attr-defined]
                    if worker.pid not in self._killed:
                        self.unexpected_exits += 1
                    await asyncio.sleep(self.rng.uniform(0.3, 1.5))
                    self.stack.start_worker()
                    self.log["worker restarted by supervisor"].at.append(self.now())
            await asyncio.sleep(0.3)

    async def kill_worker(self) -> None:
        live = self.stack.live_workers()
        if not live:
            return
        victim = self.rng.choice(live)
        self._killed.add(victim.pid)
        victim.send_signal(signal.SIGKILL)
        self.log["worker SIGKILL"].at.append(self.now())

    async def restart_temporal(self) -> None:
        started = self.now()
        await asyncio.to_thread(self.stack.stop_server)
        await asyncio.to_thread(self.stack.start_server)
        self.box.client = await connect(self.stack.address)
        entry = self.log["Temporal server restart"]
        entry.at.append(started)
        entry.down_s.append(self.now() - started)

    async def _outage(
        self, name: str, stop: Callable[[], None], start: Callable[[], None], seconds: float
    ) -> None:
        started = self.now()
        await asyncio.to_thread(stop)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(start)
        self.log[name].at.append(started)
        self.log[name].down_s.append(self.now() - started)

    async def _cut_off(self, name: str, fake: SmtpFake | CarrierFake, seconds: float) -> None:
        """Refused for the first part of the cut, then hung (a black-holed relay: requests are
        taken but answered only when it recovers), long enough to outlast an activity's
        heartbeat timeout."""
        started = self.now()
        refused = seconds * 0.4
        await asyncio.to_thread(fake.stop)
        await asyncio.sleep(refused)
        fake.stall(True)
        await asyncio.to_thread(fake.start)
        await asyncio.sleep(seconds - refused)
        fake.stall(False)
        self.log[name].at.append(started)
        self.log[name].down_s.append(self.now() - started)

    async def postgres_outage(self) -> None:
        await self._outage("PostgreSQL stopped", self.pg.stop, self.pg.start, self.config.pg_down_s)

    async def smtp_outage(self) -> None:
        await self._cut_off("SMTP cut off (refused, then hung)", self.smtp, self.config.cut_s)

    async def carrier_outage(self) -> None:
        await self._cut_off("FedEx cut off (refused, then hung)", self.carrier, self.config.cut_s)
