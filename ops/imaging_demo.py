"""The demo's imaging archive: a private Orthanc under the data folder, holding synthetic
studies (a CT series, a chest X-ray, an MR series) for each demo patient of an imaging request.

Started by `ops/demo.py` in the local demo only, when Debian's orthanc and orthanc-dicomweb
packages are installed (scripts/demo installs them when it may). The studies are made once,
when the archive is empty, so a second run keeps the same UIDs; the archive's password is made
afresh each run and reaches the worker and web app as ROI_DICOMWEB_* only.
"""

from __future__ import annotations

import secrets
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from domain.types import RequestKind
from ops import orthanc
from ops.imaging_samples import SyntheticPatient, write_demo_studies
from ops.seed import demo_requests

USER = "roi-demo"


def demo_patients(now: datetime) -> list[SyntheticPatient]:
    """The patients of the demo's imaging requests (synthetic: made from the seed's table)."""
    found: list[SyntheticPatient] = []
    for request in demo_requests(now):
        patient = request.data.get("patient")
        if request.case.kind != RequestKind.IMAGING or not patient:
            continue
        found.append(
            SyntheticPatient(
                family_name=patient["last_name"],
                given_name=patient["first_name"],
                mrn=patient["mrn"],
                birth_date=date.fromisoformat(patient["date_of_birth"]),
            )
        )
    return found


def start_demo_archive(data_dir: Path, now: datetime) -> orthanc.Orthanc:
    """Start Orthanc under `data_dir/orthanc` and load the demo studies if it holds none."""
    server = orthanc.start(data_dir / "orthanc", user=USER, password=secrets.token_urlsafe(18))
    try:
        with server.client() as http:
            stored = int(http.get("/statistics").json()["CountInstances"])
        if stored == 0:
            today = now.date()
            dates = (
                today - timedelta(days=400),
                today - timedelta(days=120),
                today - timedelta(days=20),
            )
            with tempfile.TemporaryDirectory(prefix="roi-imaging-") as work:
                for n, patient in enumerate(demo_patients(now)):
                    write_demo_studies(Path(work) / f"p{n}", patient, dates)
                server.load_folder(Path(work))
    except Exception:
        server.stop()
        raise
    return server


def archive_env(server: orthanc.Orthanc) -> dict[str, str]:
    """The settings that point the engine at this archive (ROI_DICOMWEB_*)."""
    return {
        "ROI_DICOMWEB_URL": server.dicomweb_url,
        "ROI_DICOMWEB_USER": server.user,
        "ROI_DICOMWEB_PASSWORD": server.password,
    }
