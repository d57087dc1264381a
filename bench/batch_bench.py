"""Benchmark: a site's US-mail batch of 1,000 requests (one to five pages of records each).

    .venv/bin/python bench/batch_bench.py                 # 1,000 requests; also 250 and 500
    .venv/bin/python bench/batch_bench.py --requests 200 --sizes 50,100,200

Builds the print-ready batch PDF (cover letter, records, separator per request) and its
manifest with the batch's own code (activities.channels.mail.MailBatchFile: streamed to a file
on disk letter by letter, as the batch activity writes it), for growing batch sizes, to show
the time grows in proportion to the size (requests per second stays flat); and, measured in the
same run, the same packets built one by one as separate PDFs (the baseline,
activities.channels.mail.single_packet) and the batch built whole in memory (MailBatch, how the
activity built it before it streamed). Timings are warmed up first (fonts, templates).

Peak memory of each mode at the full size is measured afterwards, each in a fresh
subprocess: the RSS high-water mark (VmHWM) above the process's idle RSS once the synthetic
requests are made (the high-water mark is reset there), which counts qpdf's C++ heap too; with
`--tracemalloc`, also tracemalloc's peak (Python allocations only, how this bench measured it
before). Synthetic patients only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.channels.mail import MailBatch, MailBatchFile, single_packet
from activities.channels.packet import Packet
from activities.sources.base import RecordDocument
from domain.effects import Delivery
from domain.patients import patient_key
from domain.release_safety import DocumentFacts, ReleaseDecision
from domain.request import RecordRequestSubmission
from fakes.records import record_pdf
from tests import factories

TODAY = date(2026, 11, 25)


def make_requests(n: int, seed: int = 7) -> list[tuple[Delivery, Packet]]:
    """n third-party mail requests, each for its own synthetic patient, 1-5 pages of records."""
    rng = random.Random(seed)
    made = []
    for i in range(n):
        patient = {
            "first_name": f"Pat{i:04d}",
            "last_name": "Benchmark",
            "date_of_birth": f"19{50 + i % 50:02d}-0{1 + i % 9}-1{i % 10}",
        }
        data = factories.third_party()
        data["patient"] = {**patient, "mrn": None}
        sub = RecordRequestSubmission.model_validate(data)
        pages = rng.randint(1, 5)
        served = date(2024, 1 + i % 12, 1 + i % 28)
        content = record_pdf(patient, "Clinic visit note", pages, served)
        facts = DocumentFacts(
            document_id=f"d{i}",
            patient_first_name=patient["first_name"],
            patient_last_name=patient["last_name"],
            patient_date_of_birth=date.fromisoformat(patient["date_of_birth"]),
            record_type="visit_notes",
            service_date=served,
            pages=pages,
        )
        contact = sub.delivery_contact()
        delivery = Delivery(
            key=f"bench{i:05d}-deliver",
            request_id=f"bench{i:05d}",
            tracking_number=f"ROI-BENCH-{i:05d}",
            method=sub.delivery_method,
            recipient_name=sub.recipient_name(),
            address_lines=contact.address.lines() if contact.address else [],
            description="Visit notes",
            patient_key=patient_key(
                sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
            ),
            submission=sub,
        )
        packet = Packet(
            documents=[RecordDocument(facts=facts, content=content)],
            decision=ReleaseDecision(released=[facts.document_id]),
        )
        made.append((delivery, packet))
    return made


def build_batch(requests: list[tuple[Delivery, Packet]]) -> int:
    """The batch as the batch activity builds it: one PDF streamed to a file, plus the
    manifest."""
    with tempfile.TemporaryFile() as out:
        batch = MailBatchFile(out)
        for delivery, packet in requests:
            batch.add(delivery, packet, TODAY)
        batch.close()
        batch.manifest_csv()
        return out.tell()


def build_in_memory(requests: list[tuple[Delivery, Packet]]) -> int:
    """The batch built whole in memory, then saved as bytes (before it streamed)."""
    batch = MailBatch()
    for delivery, packet in requests:
        batch.add(delivery, packet, TODAY)
    pdf = batch.pdf()
    batch.manifest_csv()
    return len(pdf)


def build_one_by_one(requests: list[tuple[Delivery, Packet]]) -> int:
    """Baseline: each request's packet as its own PDF."""
    return sum(len(single_packet(d, p, TODAY)[0]) for d, p in requests)


MODES: dict[str, Callable[[list], int]] = {
    "batch": build_batch,
    "in memory": build_in_memory,
    "one by one": build_one_by_one,
}


def timed(fn: Callable[[list], int], requests: list) -> tuple[float, int]:
    started = time.perf_counter()
    size = fn(requests)
    return time.perf_counter() - started, size


def peak_mib(fn: Callable[[list], int], requests: list) -> float:
    tracemalloc.start()
    fn(requests)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_child(mode: str, n: int, trace: bool) -> None:
    """In a fresh process: RSS high-water above idle for one mode (and tracemalloc's peak)."""
    requests = make_requests(n)
    MODES[mode](requests[:2])  # imports and fonts loaded: part of idle, as in a worker
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    idle = _status_mb("VmRSS")
    MODES[mode](requests)
    result = {"idle": idle, "above_idle": _status_mb("VmHWM") - idle}
    if trace:
        result["tracemalloc"] = peak_mib(MODES[mode], requests)
    print(json.dumps(result))


def measure_memory(mode: str, n: int, trace: bool) -> dict[str, float]:
    child = [sys.executable, __file__, "--memory-child", mode, "--requests", str(n)]
    out = subprocess.run(
        child + (["--tracemalloc"] if trace else []), check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--sizes", default="", help="comma-separated batch sizes to compare")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    parser.add_argument("--tracemalloc", action="store_true", help="also tracemalloc's peak")
    parser.add_argument("--memory-child", choices=list(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.requests, args.tracemalloc)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s] or [
        args.requests // 4,
        args.requests // 2,
        args.requests,
    ]
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"making {max(sizes)} synthetic requests ...", flush=True)
    requests = make_requests(max(sizes))
    pages = sum(p.documents[0].facts.pages + 2 for _, p in requests)  # + cover, separator
    print(f"{len(requests)} requests, {pages} pages in the full batch\n")
    for fn in MODES.values():  # warm-up: the first mode timed does not pay for fonts
        fn(requests[:5])

    print(f"{'mode':<14}{'requests':>9}{'seconds':>10}{'req/s':>9}{'MiB out':>9}")
    rates = {}
    for n in sizes:
        seconds, size = timed(build_batch, requests[:n])
        rates[n] = n / seconds
        print(f"{'batch':<14}{n:>9}{seconds:>10.2f}{n / seconds:>9.1f}{size / 2**20:>9.1f}")
    n = len(requests)
    others = {}
    for mode in ("one by one", "in memory"):
        seconds, size = timed(MODES[mode], requests)
        others[mode] = n / seconds
        print(f"{mode:<14}{n:>9}{seconds:>10.2f}{n / seconds:>9.1f}{size / 2**20:>9.1f}")

    smallest, largest = min(sizes), max(sizes)
    print(
        f"\nproportional to size: req/s at {largest} / req/s at {smallest} = "
        f"{rates[largest] / rates[smallest]:.2f} (1.00 = perfectly linear)"
    )
    print(
        f"batch vs one by one ({n} requests): {rates[largest] / others['one by one']:.2f}x "
        f"the rate (in memory, before: {others['in memory'] / others['one by one']:.2f}x)"
    )
    print(f"load average after timings: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.no_memory:
        print(f"\npeak memory above idle, {n} requests, each mode in a fresh process:")
        for mode in MODES:
            m = measure_memory(mode, n, args.tracemalloc)
            traced = f", tracemalloc peak {m['tracemalloc']:.1f} MiB" if "tracemalloc" in m else ""
            print(
                f"{mode:<14} RSS high-water {m['above_idle']:.1f} MB above idle "
                f"({m['idle']:.0f} MB){traced}"
            )
        print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
