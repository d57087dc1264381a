"""Chaos on the real stack (issue 8): with requests in flight, SIGKILL workers, restart Temporal,
stop PostgreSQL, cut off the SMTP server and the carrier; then every request must reach its end
state with exactly one email, shipment, payment and disclosure each, a gapless audit trail and
clocks the outages did not move.

Short form by default (CI). Long form on demand: `scripts/chaos` (500 requests), or
    ROI_CHAOS_REQUESTS=500 ROI_CHAOS_KILLS=10 ROI_CHAOS_PG_DOWN=30 ROI_CHAOS_CUT=30 \
        .venv/bin/pytest -s -m chaos tests/chaos
Knobs (environment): ROI_CHAOS_REQUESTS (40), ROI_CHAOS_WORKERS (2), ROI_CHAOS_KILLS (3),
ROI_CHAOS_TEMPORAL_RESTARTS (1), ROI_CHAOS_PG_DOWN (10 s), ROI_CHAOS_CUT (20 s, SMTP and
carrier each: refusing connections for 40% of it, then hung, answering only when the cut ends),
ROI_CHAOS_WINDOW (seconds over which staff work and faults are spread; scales with the size),
ROI_CHAOS_DEADLINE (seconds for everything to finish), ROI_CHAOS_SEED (random; printed so a
run can be repeated). The table is also written to test-artifacts/chaos/report.txt.
Batching is off (ROI_BATCH_ENABLED=false): mail, CD and FedEx go when released, so every
delivery happens inside the fault window.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services import intake
from services.temporal import connect
from tests.chaos import checks
from tests.chaos.faults import Chaos, ChaosConfig
from tests.chaos.infra import CarrierFake, OwnPostgres, SmtpFake
from tests.chaos.workload import ClientBox, Planned, StatusBoard, plan, work_request, write_records
from tests.stack import ROOT, Stack

pytestmark = pytest.mark.chaos


def _env(name: str, default: float) -> float:
    return float(os.environ.get(f"ROI_CHAOS_{name}", default))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Stack, OwnPostgres, SmtpFake, CarrierFake]]:
    """Our own PostgreSQL, SMTP server and carrier, and a dev server the workers will use."""
    pg = OwnPostgres()
    smtp, carrier = SmtpFake(), CarrierFake()
    smtp.start()
    carrier.start()
    write_records(tmp_path / "records")
    stack = Stack(
        tmp_path,
        pg.database_url,
        extra_env={
            "ROI_SMTP_HOST": "127.0.0.1",
            "ROI_SMTP_PORT": str(smtp.port),
            "ROI_FEDEX_BASE_URL": carrier.url,
            "ROI_BATCH_ENABLED": "false",
            "ROI_RECORDS_DIR": str(tmp_path / "records"),
            "ROI_PUBLIC_BASE_URL": "http://roi.test",
            "ROI_LINK_SECRET": "chaos-link-secret-0123456789",
            "ROI_LOG_LEVEL": "WARNING",
        },
    )
    stack.start_server()
    try:
        yield stack, pg, smtp, carrier
    finally:
        stack.close()
        smtp.stop()
        carrier.stop()
        if not _pg_up(pg):
            pg.start()
        pg.close()


def _pg_up(pg: OwnPostgres) -> bool:
    import psycopg

    try:
        psycopg.connect(pg.database_url, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


async def _intake(stack: Stack, box: ClientBox, planned: list[Planned]) -> None:
    """Submit every request (as the portal would), a few at a time."""
    gate = asyncio.Semaphore(8)

    async def one(item: Planned) -> None:
        async with gate:
            result = await intake.submit(
                item.data,
                database_url=stack.database_url,
                client=box.client,
                task_queue=stack.task_queue,
                source="test",
                idempotency_key=f"chaos-{uuid.uuid4().hex}",
            )
        assert result.accepted and result.request_id, result.errors
        item.request_id = result.request_id

    await asyncio.gather(*(one(i) for i in planned))


async def test_chaos(world: tuple[Stack, OwnPostgres, SmtpFake, CarrierFake]) -> None:
    stack, pg, smtp, carrier = world
    count = int(_env("REQUESTS", 40))
    seed = int(os.environ.get("ROI_CHAOS_SEED") or random.randrange(10**9))
    config = ChaosConfig(
        workers=int(_env("WORKERS", 2)),
        kills=int(_env("KILLS", 3)),
        temporal_restarts=int(_env("TEMPORAL_RESTARTS", 1)),
        pg_down_s=_env("PG_DOWN", 10),
        cut_s=_env("CUT", 20),
        window_s=_env("WINDOW", max(40.0, 0.3 * count)),
    )
    print(f"\nchaos seed {seed} (ROI_CHAOS_SEED={seed} repeats it); {count} requests; {config}")
    rng = random.Random(seed)
    started = time.monotonic()

    for _ in range(config.workers):
        stack.start_worker()
    box = ClientBox(await connect(stack.address))
    planned = plan(rng, count, datetime.now(UTC))
    await _intake(stack, box, planned)
    ids = [i.request_id for i in planned]
    board = StatusBoard(stack.database_url, ids)

    async def all_received() -> bool:
        board.refresh()
        return len(board.status) == count

    deadline = time.monotonic() + 60 + count * 0.5
    while not await all_received():
        assert time.monotonic() < deadline, "intake did not reach the read model"
        await asyncio.sleep(0.5)
    at_intake = checks.clocks(stack.database_url, ids)
    intake_s = time.monotonic() - started

    # All in flight: staff pick them up over the window while the faults hit.
    chaos = Chaos(stack, pg, smtp, carrier, box, rng, config)
    for item in planned:
        item.staff_at = rng.uniform(0, 0.8 * config.window_s)
    stop = asyncio.Event()
    board_task = asyncio.create_task(board.run(stop))
    supervisor = asyncio.create_task(chaos.supervise(stop))
    work_t0 = time.monotonic()
    drivers = [
        asyncio.create_task(work_request(i, box, board, random.Random(rng.random()), work_t0))
        for i in planned
    ]
    await chaos.run()
    finish_by = _env("DEADLINE", 150 + count * 0.6)
    _done, pending = await asyncio.wait(drivers, timeout=max(1.0, finish_by - chaos.now()))
    for task in pending:
        task.cancel()
    stop.set()
    await asyncio.gather(board_task, supervisor, return_exceptions=True)
    work_s = time.monotonic() - work_t0
    board.refresh()

    client = await connect(stack.address)
    results = [
        await checks.end_states(client, planned, stack.database_url),
        checks.emails(smtp, planned),
        checks.shipments(carrier, planned),
        checks.payments(stack.database_url, planned),
        checks.disclosures(stack.database_url, planned),
        checks.letters(stack.database_url, planned),
        checks.audit(stack.database_url, planned),
        checks.sla_unchanged(stack.database_url, planned, at_intake),
    ]
    report = _report(seed, count, config, chaos, planned, results, intake_s, work_s, board)
    print(report)
    out = ROOT / "test-artifacts" / "chaos"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.txt").write_text(report)
    assert not pending, f"{len(pending)} requests did not finish; see the table above"
    assert all(c.ok for c in results), "chaos checks failed; see the table above"


def _report(
    seed: int,
    count: int,
    config: ChaosConfig,
    chaos: Chaos,
    planned: list[Planned],
    results: list[checks.Check],
    intake_s: float,
    work_s: float,
    board: StatusBoard,
) -> str:
    mix = {p: sum(1 for i in planned if i.path == p) for p in ("email", "mail", "fedex", "cd")}
    sent = sum(sum(i.actions_sent.values()) for i in planned)
    lines = [
        "",
        f"CHAOS RUN  seed={seed}  requests={count} {mix}  workers={config.workers}",
        f"intake {intake_s:.1f}s; staff work + faults + drain {work_s:.1f}s "
        f"(window {config.window_s:.0f}s); staff actions sent {sent}, "
        f"refused as already done {sum(i.refused for i in planned)}, "
        f"lost to outages and retried {sum(i.errors for i in planned)}; "
        f"read-model polls failed {board.failed_reads}; "
        f"worker exits not caused by a kill {chaos.unexpected_exits} (restarted)",
        "",
        f"{'fault injected':34} {'count':>5}  when (s into the fault window, +time down)",
        f"{'-' * 34} {'-' * 5}  {'-' * 40}",
    ]
    for entry in chaos.log.values():
        lines.append(f"{entry.fault:34} {len(entry.at):>5}  {entry.when()}")
    lines += ["", f"{'check':68} result", f"{'-' * 68} {'-' * 40}"]
    for check in results:
        lines.append(f"{check.name:68} {'PASS' if check.ok else 'FAIL'}: {check.result}")
    return "\n".join(lines) + "\n"
