"""Field-level precision and recall of the OCR pre-fill, on generated fax scans.

Each scan from bench/scans.py (the project's blank authorization form filled with synthetic
values, faxed: 204 x 196 dpi, skew, specks, black and white; TIFF or PDF; English and
Spanish) is read exactly as the worker reads a document (activities.ocr.read: pdftoppm,
ocrmypdf, Tesseract) and its fields and 164.508 elements found by domain.documents.extract.
Scored against what was written on the form:

- a field is a true positive when the value read equals the value written (case and spacing
  aside), a false positive when a value was read that is wrong or was not written at all, and a
  false negative when a written value was not read (or read wrong: a wrong value is both);
- an element is a true positive when it is on the form and found, a false positive when found
  but not on the form (a scan whose second page was lost has no statements and no signature),
  a false negative when on the form and not found.

    .venv/bin/python bench/ocr_accuracy.py --count 60 --scans /tmp/scans
    .venv/bin/python bench/ocr_accuracy.py --scans /tmp/scans --text-cache /tmp/scans/text

The OCR text of each scan is cached (--text-cache) so the rules can be re-scored without
running Tesseract again.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.ocr import read
from bench.scans import ScanTruth, generate
from domain.documents import ELEMENTS, extract


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def normal(value: str | None) -> str | None:
    """Compared without case, accents kept, punctuation and spacing aside."""
    if value is None:
        return None
    cleaned = re.sub(r"[^\w@.-]+", " ", value.lower()).strip()
    return cleaned or None


def score_field(tally: Tally, expected: str | None, found: str | None) -> None:
    want, got = normal(expected), normal(found)
    if got is not None and got == want:
        tally.tp += 1
        return
    if got is not None:
        tally.fp += 1
    if want is not None:
        tally.fn += 1


def load(scans: Path) -> list[ScanTruth]:
    return [ScanTruth(**t) for t in json.loads((scans / "truth.json").read_text())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=Path, required=True, help="folder of scans + truth.json")
    parser.add_argument("--count", type=int, default=0, help="generate this many first")
    parser.add_argument("--languages", default="eng+spa+ara")
    parser.add_argument("--text-cache", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--reverse", action="store_true", help="OCR the scans last to first")
    parser.add_argument(
        "--skip", type=int, default=0, help="leave out the first N scans (those looked at)"
    )
    parser.add_argument(
        "--cached-only", action="store_true", help="score only scans whose text is cached"
    )
    args = parser.parse_args()
    if args.count:
        generate(args.count, args.scans)
    truths = load(args.scans)[args.skip :]
    cache = args.text_cache
    if args.reverse:
        truths.reverse()
    if args.cached_only and cache is not None:
        truths = [t for t in truths if (cache / f"{t.name}.txt").exists()]
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    fields: dict[str, Tally] = {}
    elements: dict[str, Tally] = {key: Tally() for key, _ in ELEMENTS}
    seconds: list[float] = []
    for truth in truths:
        cached = cache / f"{truth.name}.txt" if cache else None
        if cached is not None and cached.exists():
            text = cached.read_text()
        else:
            content = (args.scans / f"{truth.name}.{truth.format}").read_bytes()
            started = time.perf_counter()
            text = read(content, args.languages).text
            seconds.append(time.perf_counter() - started)
            if cached is not None:
                cached.write_text(text)
        reading = extract(text)
        found = {name: r.value for name, r in reading.fields.items()}
        for name, expected in truth.expected_fields().items():
            score_field(fields.setdefault(name, Tally()), expected, found.get(name))
        present = {e.element: e.present for e in reading.elements}
        for key, _ in ELEMENTS:
            want, got = truth.elements.get(key, False), present.get(key, False)
            tally = elements[key]
            tally.tp += want and got
            tally.fp += got and not want
            tally.fn += want and not got
    languages = {lang: sum(t.language == lang for t in truths) for lang in ("en", "es")}
    formats = {fmt: sum(t.format == fmt for t in truths) for fmt in ("tiff", "pdf")}
    print(f"{len(truths)} scans ({languages}, {formats}); OCR languages {args.languages}")
    if seconds:
        print(f"OCR per scan: {sum(seconds) / len(seconds):.1f} s mean, {max(seconds):.1f} s max")
    print(f"{'field':32} {'precision':>9} {'recall':>7}   tp  fp  fn")
    report: dict[str, dict[str, float]] = {}
    for title, table in (("fields", fields), ("164.508 elements", elements)):
        print(f"-- {title}")
        for name, t in table.items():
            print(f"{name:32} {t.precision:9.3f} {t.recall:7.3f} {t.tp:4d}{t.fp:4d}{t.fn:4d}")
            report[name] = {"precision": t.precision, "recall": t.recall, "tp": t.tp}
            report[name].update({"fp": t.fp, "fn": t.fn})
    every = Tally(
        sum(t.tp for t in fields.values()),
        sum(t.fp for t in fields.values()),
        sum(t.fn for t in fields.values()),
    )
    print(f"{'all fields':32} {every.precision:9.3f} {every.recall:7.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
