"""A private Orthanc imaging archive for the demo, the tests and the benchmark.

Debian's `orthanc` and `orthanc-dicomweb` packages: the server binary and the DICOMweb plugin.
Each run gets its own configuration, storage and index under a folder it is given (the data
folder, or a test's temporary folder), HTTP on loopback at a free port with a user and
password, remote access refused and the DICOM network port off (studies are loaded over
REST). `start` waits until `/system` answers; `stop` ends that process only.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

ORTHANC = Path("/usr/sbin/Orthanc")
#: where orthanc-dicomweb installs its plugin (a link to the versioned library)
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
PACKAGES = "orthanc orthanc-dicomweb"


def missing() -> list[str]:
    """What this machine lacks to run the archive (empty: it can)."""
    found = []
    if not ORTHANC.exists():
        found.append(f"{ORTHANC} (apt-get install orthanc)")
    if not DICOMWEB_PLUGIN.exists():
        found.append(f"{DICOMWEB_PLUGIN} (apt-get install orthanc-dicomweb)")
    return found


def free_port() -> int:
    """A TCP port nobody listens on now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Orthanc:
    """A running Orthanc: where it answers, and as whom."""

    process: subprocess.Popen[bytes]
    port: int
    user: str
    password: str
    folder: Path

    @property
    def url(self) -> str:
        """The REST root."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        """The DICOMweb root (QIDO-RS, WADO-RS, STOW-RS)."""
        return f"{self.url}/dicom-web"

    def client(self, timeout: float = 60.0) -> httpx.Client:
        """An HTTP client on the REST root with the credentials."""
        return httpx.Client(base_url=self.url, auth=(self.user, self.password), timeout=timeout)

    def load(self, files: Iterable[Path]) -> int:
        """Store DICOM files (POST /instances, one at a time); the count stored."""
        stored = 0
        with self.client() as http:
            for path in files:
                with path.open("rb") as body:
                    response = http.post(
                        "/instances", content=body, headers={"Content-Type": "application/dicom"}
                    )
                response.raise_for_status()
                stored += 1
        return stored

    def load_folder(self, folder: Path) -> int:
        """Store every .dcm file of a folder (sorted, so a run is repeatable)."""
        return self.load(sorted(folder.rglob("*.dcm")))

    def stop(self, timeout: float = 15.0) -> None:
        """End this Orthanc (SIGTERM, then SIGKILL if it does not exit)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def configuration(folder: Path, port: int, user: str, password: str) -> dict[str, object]:
    """Orthanc's JSON configuration: its own storage under `folder`, loopback HTTP with a user,
    no DICOM network port, the DICOMweb plugin on."""
    return {
        "Name": "ROI imaging archive",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "StorageCompression": False,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "HttpServerEnabled": True,
        "HttpPort": port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {user: password},
        "OrthancExplorerEnabled": False,
        "WebDavEnabled": False,
        "DicomServerEnabled": False,
        "HttpThreadsCount": 8,
        "ConcurrentJobs": 1,
        "SaveJobs": False,
        "DeidentifyLogs": True,
        "DefaultEncoding": "Utf8",
        "DicomWeb": {
            "Enable": True,
            "Root": "/dicom-web/",
            "EnableWado": False,
            "Host": f"127.0.0.1:{port}",
            "Ssl": False,
            "StudiesMetadata": "Full",
            "SeriesMetadata": "Full",
        },
    }


def start(
    folder: Path,
    *,
    user: str = "roi",
    password: str,
    port: int | None = None,
    timeout: float = 30.0,
) -> Orthanc:
    """Start Orthanc with its state under `folder` and wait until it answers.

    The log goes to `folder/orthanc.log`; the configuration (with the password) is written
    readable by its owner only."""
    if problems := missing():
        raise RuntimeError(f"Orthanc is not installed: {', '.join(problems)}")
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = folder / "orthanc.json"
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text(json.dumps(configuration(folder, port, user, password), indent=2))
    log = (folder / "orthanc.log").open("ab")
    process = subprocess.Popen(
        [str(ORTHANC), "--no-jobs", str(config)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()  # the child holds its own descriptor
    server = Orthanc(process=process, port=port, user=user, password=password, folder=folder)
    deadline = time.monotonic() + timeout
    with server.client(timeout=2.0) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"Orthanc exited with {process.returncode} (see {folder / 'orthanc.log'})"
                )
            try:
                if http.get("/system").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"Orthanc did not answer in {timeout:.0f} s")
            time.sleep(0.1)
