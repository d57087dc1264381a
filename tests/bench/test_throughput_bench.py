"""The throughput benchmark still runs end to end (short form; figures come from the long form).

No timing is asserted here (these machines are noisy): what CI keeps true is that every
synthetic request of the mix reaches closure through the staff Updates, the no-op floor runs
beside it, and the timer check reports a worker's memory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_pushes_the_mix_to_closure_and_reports_ratio_cpu_and_memory(
    server_url: str,
) -> None:
    env = {**os.environ, "ROI_DATABASE_URL": server_url}
    run = subprocess.run(
        [
            sys.executable,
            "bench/throughput_bench.py",
            "--requests", "12",
            "--workers", "1",
            "--concurrency", "6",
            "--timers", "20",
            "--cache", "",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    row = re.search(r"^\s+1\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)%", run.stdout, re.MULTILINE)
    assert row, run.stdout
    ours, floor, ratio = float(row[1]), float(row[2]), int(row[3])
    assert ours > 0 and floor > 0 and abs(ratio - 100 * ours / floor) <= 1
    assert re.search(r"^\s+1 ours\s+\d+ / \d+\s+floor\s+\d+ / \d+", run.stdout, re.MULTILINE)
    rss = re.search(r"RSS with 20 requests waiting on timers .*: (\d+) MB", run.stdout)
    assert rss and int(rss[1]) > 0, run.stdout
