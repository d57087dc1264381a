"""Benchmark: a site's US-mail batch of 1,000 requests (one to five pages of records each).

    .venv/bin/python bench/batch_bench.py                 # 1,000 requests; also 250 and 500
    .venv/bin/python bench/batch_bench.py --requests 200 --sizes 50,100,200

Builds the print-ready batch PDF (cover letter, records, separator per request) and its
manifest with the batch's own code (activities.channels.mail.MailBatch), for growing batch
sizes, to show the time grows in proportion to the size (requests per second stays flat); and,
as the baseline measured in the same run, the same packets built one by one as separate PDFs
(activities.channels.mail.single_packet). Peak memory of each mode is measured in a second pass
with tracemalloc (timings come from the first pass, without it). Synthetic patients only.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.channels.mail import MailBatch, single_packet
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
    """The batch as the batch activity builds it: one PDF plus the manifest."""
    batch = MailBatch()
    for delivery, packet in requests:
        batch.add(delivery, packet, TODAY)
    pdf = batch.pdf()
    batch.manifest_csv()
    return len(pdf)


def build_one_by_one(requests: list[tuple[Delivery, Packet]]) -> int:
    """Baseline: each request's packet as its own PDF."""
    return sum(len(single_packet(d, p, TODAY)[0]) for d, p in requests)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--sizes", default="", help="comma-separated batch sizes to compare")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] or [
        args.requests // 4,
        args.requests // 2,
        args.requests,
    ]
    print(f"making {max(sizes)} synthetic requests ...", flush=True)
    requests = make_requests(max(sizes))
    pages = sum(p.documents[0].facts.pages + 2 for _, p in requests)  # + cover, separator
    print(f"{len(requests)} requests, {pages} pages in the full batch\n")

    print(f"{'mode':<14}{'requests':>9}{'seconds':>10}{'req/s':>9}{'MiB out':>9}")
    rates = {}
    for n in sizes:
        seconds, size = timed(build_batch, requests[:n])
        rates[n] = n / seconds
        print(f"{'batch':<14}{n:>9}{seconds:>10.2f}{n / seconds:>9.1f}{size / 2**20:>9.1f}")
    base_s, base_size = timed(build_one_by_one, requests)
    n = len(requests)
    print(f"{'one by one':<14}{n:>9}{base_s:>10.2f}{n / base_s:>9.1f}{base_size / 2**20:>9.1f}")

    smallest, largest = min(sizes), max(sizes)
    print(
        f"\nproportional to size: req/s at {largest} / req/s at {smallest} = "
        f"{rates[largest] / rates[smallest]:.2f} (1.00 = perfectly linear)"
    )
    print(f"batch vs one by one ({n} requests): {rates[largest] / (n / base_s):.2f}x the rate")
    if not args.no_memory:
        batch_peak = peak_mib(build_batch, requests)
        single_peak = peak_mib(build_one_by_one, requests)
        print(
            f"peak memory (tracemalloc): batch {batch_peak:.1f} MiB, "
            f"one by one {single_peak:.1f} MiB"
        )


if __name__ == "__main__":
    main()
