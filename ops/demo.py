"""The whole system on one machine, with demo data: `python -m ops.demo`.

Starts PostgreSQL (ROI_DATABASE_URL, else embedded under .data/pg), creates the app's
least-privilege role roi_app on it, migrates it as the owner, starts the
Temporal dev server (SQLite under .data/temporal, Web UI on 8233), the worker and the web app,
seeds the demo requests (idempotent), prints where to look, and stops it all on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from config.logging import configure_logging
from config.settings import PROJECT_ROOT, Environment, Settings, get_settings
from ops.devserver import port_open, start_dev_server
from ops.imaging_demo import archive_env, start_demo_archive
from ops.orthanc import Orthanc
from ops.orthanc import missing as orthanc_missing
from ops.seed import seed
from services.temporal import connect
from store import requests
from store.db import session_scope
from store.migrate import upgrade
from store.postgres import embedded_postgres_url, ensure_app_role

console = Console()


def _spawn(args: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    log = open(log_file, "ab")  # noqa: SIM115 - kept open for the child's lifetime
    return subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes] | None, name: str) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    console.print(f"  stopped {name}")


async def _wait_until_projected(database_url: str, expected: int) -> dict[str, int]:
    for _ in range(150):
        with session_scope(database_url) as session:
            statuses = requests.statuses(session)
        if len(statuses) >= expected and "received" not in statuses:
            break
        await asyncio.sleep(0.2)
    return dict(Counter(statuses))


def _database_urls(owner: str | None, settings: Settings, data_dir: Path) -> tuple[str, str]:
    """(the owner's URL, which migrates; the app role's URL, which the worker and web app use).

    Given both (ROI_MIGRATION_DATABASE_URL and ROI_DATABASE_URL), they are used as they are.
    Otherwise the owner is the one configured URL or the embedded server's superuser, and the
    app's role `roi_app` is created on it (with the local-only password)."""
    if settings.migration_database_url and settings.database_url:
        return settings.migration_database_url, settings.database_url
    owner_url = owner or embedded_postgres_url(data_dir)
    try:
        return owner_url, ensure_app_role(owner_url)
    except Exception as error:
        raise SystemExit(
            f"Could not create the app's database role roi_app ({type(error).__name__}): "
            "create it (deploy/RUNBOOK.md) and set ROI_DATABASE_URL to its URL."
        ) from None


def _imaging_archive(settings: Settings, data_dir: Path) -> Orthanc | None:
    """The local demo's Orthanc with synthetic studies (issue 18), unless an archive is
    configured (ROI_DICOMWEB_URL) or Orthanc is not installed."""
    if settings.env != Environment.LOCAL or settings.dicomweb_url:
        return None
    if problems := orthanc_missing():
        console.print(f"Orthanc not installed ({', '.join(problems)}): no imaging archive")
        return None
    archive = start_demo_archive(data_dir, datetime.now(UTC))
    console.print(f"[bold]Orthanc[/] imaging archive ready (state in {data_dir / 'orthanc'})")
    return archive


async def run_demo(stop: asyncio.Event) -> None:
    settings = get_settings()
    configure_logging("WARNING", "console")  # the demo prints a summary; services log to .data/logs
    data_dir = settings.data_dir
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        owner_url, database_url = _database_urls(settings.migration_url, settings, data_dir)
        where = "configured" if settings.migration_url else f"embedded, {data_dir / 'pg'}"
        console.print(f"[bold]PostgreSQL[/] ready ({where}); migrating as the owner…")
        upgrade(owner_url)  # and grants roi_app its privileges (store/roles.py)

        host, _, port = settings.temporal_address.rpartition(":")
        if port_open(host or "127.0.0.1", int(port)):
            console.print(f"[bold]Temporal[/] already running at {settings.temporal_address}")
        else:
            console.print("[bold]Temporal[/] dev server starting (state in .data/temporal)…")
            processes.append(
                (
                    "temporal",
                    start_dev_server(
                        data_dir / "temporal" / "temporal.db",
                        port=int(port),
                        ui_port=settings.temporal_ui_port,
                        log_file=logs / "temporal.log",
                        # same site as the UI (localhost), so the supervisor's session goes along
                        codec_endpoint=f"http://localhost:{settings.web_port}/codec",
                    ),
                )
            )

        imaging = _imaging_archive(settings, data_dir)
        if imaging is not None:
            processes.append(("orthanc", imaging.process))
        # The worker and the web app get the app role's URL only, never the owner's.
        env = {**os.environ, "ROI_DATABASE_URL": database_url, "ROI_LOG_FORMAT": "json"}
        if imaging is not None:
            env.update(archive_env(imaging))
        env.pop("ROI_MIGRATION_DATABASE_URL", None)
        carrier = [sys.executable, "-m", "fakes.carrier"]  # FedEx stand-in on loopback
        processes.append(("carrier", _spawn(carrier, env, logs / "carrier.log")))
        processes.append(
            ("worker", _spawn([sys.executable, "worker.py"], env, logs / "worker.log"))
        )
        web = (PROJECT_ROOT / "app" / "main.py").exists()
        if web:
            processes.append(
                (
                    "web",
                    _spawn(
                        [
                            sys.executable,
                            "-m",
                            "uvicorn",
                            "app.main:app",
                            "--host",
                            settings.web_host,
                            "--port",
                            str(settings.web_port),
                            # X-Forwarded-For counts only from ROI_TRUSTED_PROXIES (the app's
                            # client_address), never from uvicorn's loopback default
                            "--no-proxy-headers",
                        ],
                        env,
                        logs / "web.log",
                    ),
                )
            )

        portal = (PROJECT_ROOT / "portal" / "main.py").exists()
        if portal:  # the patients' side, a process of its own (issue 17)
            processes.append(
                (
                    "portal",
                    _spawn(
                        [
                            sys.executable,
                            "-m",
                            "uvicorn",
                            "portal.main:app",
                            "--host",
                            settings.portal_host,
                            "--port",
                            str(settings.portal_port),
                            "--no-proxy-headers",  # as the web app: ROI_TRUSTED_PROXIES only
                        ],
                        env,
                        logs / "portal.log",
                    ),
                )
            )

        client = await connect(settings.temporal_address, settings.temporal_namespace)
        console.print("Seeding demo requests…")
        # the demo patients' synthetic records first: the folder source never makes any up
        records = settings.records_path if settings.record_source == "folder" else None
        counts = await seed(database_url, client, settings.task_queue, records=records)
        total = counts["submitted"] + counts["already_there"]
        statuses = await _wait_until_projected(database_url, total)
        _summary(settings, counts, statuses, web, database_url)

        while not stop.is_set():
            for name, process in processes:
                if process.poll() is not None:
                    console.print(
                        f"[red]{name} exited ({process.returncode}); see {logs}/{name}.log[/]"
                    )
                    stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1)
    finally:
        console.print("Stopping…")
        for name, process in reversed(processes):
            _stop(process, name)


def _summary(settings, counts, statuses, web: bool, database_url: str) -> None:
    table = Table(title="Demo requests by stage")
    table.add_column("stage")
    table.add_column("requests", justify="right")
    for status, n in sorted(statuses.items()):
        table.add_row(status, str(n))
    console.print(table)
    console.print(
        f"seeded {counts['submitted']} new, {counts['already_there']} already there, "
        f"{counts['actions']} staff actions applied"
    )
    console.print(f"[bold]Temporal Web UI[/]   http://localhost:{settings.temporal_ui_port}")
    if web:
        console.print(f"[bold]Staff web app[/]     http://{settings.web_host}:{settings.web_port}")
        _print_accounts(database_url)
    if (PROJECT_ROOT / "portal" / "main.py").exists():
        console.print(
            f"[bold]Patient portal[/]    http://{settings.portal_host}:{settings.portal_port}"
            "  (?lang=en|es|ar|so|hmn)"
        )
    console.print(f"[bold]Outbox[/] (letters, emails, print and ship jobs)  {settings.outbox_path}")
    console.print("[bold]CLI[/]               .venv/bin/roi --help   (e.g. .venv/bin/roi list)")
    console.print("Press Ctrl-C to stop everything.")


def _print_accounts(database_url: str) -> None:
    try:
        from app.accounts import seed_demo_accounts
    except ImportError:
        return
    # One line each, never a table: a table in a pipe or a narrow terminal cuts the passwords
    # and keys short, and a newcomer has to type them.
    console.print(
        "[bold]Demo staff accounts[/] (local demo only): username, role, password, "
        "TOTP key (second step)"
    )
    for username, role, password, secret in seed_demo_accounts(database_url):
        console.print(
            f"  {username}  {role}  {password}  {secret}", soft_wrap=True, highlight=False
        )
    console.print(
        "Sign-in asks for a code after the password: add the key to an authenticator app, or "
        "print the current code with [bold].venv/bin/roi users demo-code USERNAME[/]"
    )


def main() -> None:
    stop = asyncio.Event()

    async def runner() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_demo(stop)

    asyncio.run(runner())


if __name__ == "__main__":
    main()
