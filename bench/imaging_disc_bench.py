"""Benchmark: a 1 GB imaging study streamed from Orthanc to an IHE PDI disc layout, with the
worker's memory measured.

    .venv/bin/python bench/imaging_disc_bench.py                  # ~1 GB: 2,048 CT slices 512×512
    .venv/bin/python bench/imaging_disc_bench.py --gigabytes 0.25 # a quicker run

Makes a synthetic CT study (16-bit 512×512 slices, ops/imaging_samples.py) file by file,
loading each slice into a private Orthanc (ops/orthanc.py) as it is written and deleting it,
so the generator never holds the study either. Then, in a fresh process that has imported
everything and retrieved a one-slice warm-up study (the worker's idle), resets the RSS
high-water mark (/proc/self/clear_refs) and does what the CD release will do: WADO-RS
retrieval of the whole study to disk (activities/sources/dicomweb.py), the identity check
(domain/imaging.py), the PDI layout (activities/channels/pdi.py), then the disc image as the
CD channel seals it (the layout in an AES-256 zip, the zip in an ISO: activities/channels/cd.py,
file by file from disk). It prints the RSS
high-water mark above idle (VmHWM - VmRSS at the reset: native allocations count too), the
time of each step and the machine's load. The issue's bound: under 150 MB above idle.
Synthetic patients only. Never run by the tests.

A run on the 2-CPU development machine (load 2.4–4.3, shared), 2026-12-01: 2,048 instances,
1.00 GiB; metadata check 4.4 s, retrieval 9.6 s, PDI layout 52.5 s, zip and ISO 6.3 s (the
synthetic slices deflate to a 0.03 GiB image); 67.4 MB above idle (idle 113 MB). The layout's
time grows with the square of the instance count: pydicom's FileSet.add looks through every
instance and sibling record already added (a bigger study: a DICOMDIR writer of our own).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load
from ops import orthanc
from ops.imaging_samples import SyntheticPatient, iter_study, write_study

PATIENT = SyntheticPatient("Benchpatient", "Morgan", "BENCH-0001", date(1970, 1, 1))
STUDY_DAY = date(2026, 1, 15)
LIMIT_MB = 150.0


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_child(study_uid: str, warmup_uid: str, work: Path) -> None:
    """In a fresh process: retrieve, check and lay out the study; print the figures as JSON."""
    from activities.channels import cd
    from activities.channels.pdi import build_pdi, members
    from activities.sources.dicomweb import DicomWebSource
    from domain.imaging import check_instances
    from domain.request import Patient

    source = DicomWebSource(
        os.environ["BENCH_DICOMWEB_URL"],
        user=os.environ["BENCH_DICOMWEB_USER"],
        password=os.environ["BENCH_DICOMWEB_PASSWORD"],
    )
    patient = Patient(
        first_name=PATIENT.given_name,
        last_name=PATIENT.family_name,
        date_of_birth=PATIENT.birth_date,
        mrn=PATIENT.mrn,
    )
    # warm-up: every import and code path once, as a worker that has run a release before
    files = source.retrieve_study(warmup_uid, work / "warm-in")
    build_pdi(files, work / "warm-out", hospital="Bench Hospital", reference="R-WARM")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    idle = _status_mb("VmRSS")

    started = time.perf_counter()
    headers = source.instance_headers(study_uid)
    check = check_instances(patient, headers)
    checked = time.perf_counter()
    files = source.retrieve_study(study_uid, work / "in")
    retrieved = time.perf_counter()
    disc = build_pdi(files, work / "out", hospital="Bench Hospital", reference="R-BENCH")
    built = time.perf_counter()
    on_disc = sum(p.stat().st_size for p in (work / "out").rglob("*") if p.is_file())
    # then the CD as the channel makes it: the disc in an AES-256 zip, the zip in an ISO image
    zipped, image = work / "RECORDS.ZIP", work / "disc.iso"
    with zipped.open("wb") as out:
        cd.encrypted_zip_of_files(members(disc.root), "bench-password-not-secret", out)
    with image.open("wb") as out:
        cd.iso_image_to(zipped, "R-BENCH", out)
    sealed = time.perf_counter()
    print(
        json.dumps(
            {
                "idle_mb": idle,
                "above_idle_mb": _status_mb("VmHWM") - idle,
                "instances": disc.counts.instances,
                "clean": check.clean and check_instances(patient, disc.headers).clean,
                "check_s": checked - started,
                "retrieve_s": retrieved - checked,
                "build_s": built - retrieved,
                "disc_bytes": on_disc,
                "iso_s": sealed - built,
                "iso_bytes": image.stat().st_size,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0, help="size of the study")
    parser.add_argument("--size", type=int, default=512, help="rows and columns of a slice")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--measure-child", nargs=3, metavar=("STUDY", "WARMUP", "WORK"))
    args = parser.parse_args()
    if args.measure_child:
        study, warmup, work = args.measure_child
        measure_child(study, warmup, Path(work))
        return
    if problems := orthanc.missing():
        raise SystemExit(f"Orthanc missing: {', '.join(problems)}")

    with tempfile.TemporaryDirectory(prefix="roi-imaging-bench-", dir=args.work) as tmp:
        root = Path(tmp)
        server = orthanc.start(root / "orthanc", password="bench-only-password")
        try:
            slices = math.ceil(args.gigabytes * 2**30 / (args.size * args.size * 2))
            print(f"load before: {load()}")
            started = time.perf_counter()
            made = root / "made"
            uid = ""
            with server.client() as http:
                for study, path in iter_study(
                    made, PATIENT, "CT", STUDY_DAY, slices=slices, size=args.size
                ):
                    uid = study.study_uid
                    with path.open("rb") as body:
                        dicom = {"Content-Type": "application/dicom"}
                        http.post("/instances", content=body, headers=dicom).raise_for_status()
                    path.unlink()
                    study.files.clear()  # the generator keeps no list of a study this size
            warm = write_study(made / "warm", PATIENT, "CT", STUDY_DAY, slices=1)
            server.load(warm.files)
            print(
                f"generated and loaded {slices} slices of {args.size}×{args.size} "
                f"in {time.perf_counter() - started:.1f} s"
            )
            env = {
                **os.environ,
                "BENCH_DICOMWEB_URL": server.dicomweb_url,
                "BENCH_DICOMWEB_USER": server.user,
                "BENCH_DICOMWEB_PASSWORD": server.password,
            }
            child = [
                sys.executable,
                __file__,
                "--measure-child",
                uid,
                warm.study_uid,
                str(root / "run"),
            ]
            out = subprocess.run(child, env=env, check=True, capture_output=True, text=True)
            figures = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            server.stop()
        gb = figures["disc_bytes"] / 2**30
        total = figures["check_s"] + figures["retrieve_s"] + figures["build_s"] + figures["iso_s"]
        print(
            f"study: {figures['instances']} instances, disc {gb:.2f} GiB; identity clean: "
            f"{figures['clean']}"
        )
        print(
            f"identity check (WADO-RS metadata) {figures['check_s']:.1f} s, retrieve "
            f"{figures['retrieve_s']:.1f} s, PDI layout {figures['build_s']:.1f} s, AES-256 zip "
            f"and ISO {figures['iso_s']:.1f} s (image {figures['iso_bytes'] / 2**30:.2f} GiB; "
            f"{gb * 1024 / total:.0f} MiB/s overall)"
        )
        verdict = "within" if figures["above_idle_mb"] < LIMIT_MB else "OVER"
        print(
            f"worker RSS high-water above idle: {figures['above_idle_mb']:.1f} MB "
            f"(idle {figures['idle_mb']:.0f} MB; {verdict} the {LIMIT_MB:.0f} MB bound)"
        )
        print(f"load after: {load()}")


if __name__ == "__main__":
    main()
