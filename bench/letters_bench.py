"""Letters per second per core against raw reportlab drawing the same text, same run.

Baseline: the acknowledgement letter's final text lines (positions, fonts and sizes already
known) drawn with plain `Canvas.drawString` calls and the same embedded TrueType fonts.
Ours: `render_notice` for the same notice: template, catalog lookup, locale formatting,
shaping, measuring, wrapping, page furniture and drawing. Target: ratio <= 1.5.

    .venv/bin/python bench/letters_bench.py [--seconds 3] [--language en]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

from domain.notices import NoticeKind
from domain.types import Language
from letters import render_notice
from letters.samples import sample_notice


class _Recorder:
    """Captures what the real renderer draws, to replay it as the raw baseline."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float, float, str]] = []

    def install(self) -> None:
        original_draw = Canvas.drawString
        original_set = Canvas.setFont
        recorder = self

        def set_font(canvas: Canvas, name: str, size: float, leading: float | None = None) -> None:
            canvas._rec_font = (name, size)  # type: ignore[attr-defined]
            original_set(canvas, name, size, leading)

        def draw(
            canvas: Canvas, x: float, y: float, text: str, *args: object, **kw: object
        ) -> None:
            name, size = getattr(canvas, "_rec_font", ("Helvetica", 10))
            recorder.calls.append((name, size, x, y, text))
            original_draw(canvas, x, y, text, *args, **kw)

        self._restore = (original_draw, original_set)
        Canvas.drawString = draw  # type: ignore[method-assign]
        Canvas.setFont = set_font  # type: ignore[method-assign]

    def uninstall(self) -> None:
        Canvas.drawString, Canvas.setFont = self._restore  # type: ignore[method-assign]


def raw_page(calls: list[tuple[str, float, float, float, str]]) -> bytes:
    """The same text at the same places, with raw canvas calls."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=1)
    font = None
    for name, size, x, y, text in calls:
        if font != (name, size):
            canvas.setFont(name, size)
            font = (name, size)
        canvas.drawString(x, y, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def rates(first: object, second: object, seconds: float, batch: int = 20) -> tuple[float, float]:
    """Calls per second of each, measured in alternating batches so both see the same load."""
    spent = [0.0, 0.0]
    done = 0
    while sum(spent) < 2 * seconds:
        for i, fn in enumerate((first, second)):
            start = time.perf_counter()
            for _ in range(batch):
                fn()  # type: ignore[operator]
            spent[i] += time.perf_counter() - start
        done += batch
    return done / spent[0], done / spent[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--language", default="en", choices=[lang.value for lang in Language])
    args = parser.parse_args()
    notice = sample_notice(NoticeKind.ACKNOWLEDGEMENT, Language(args.language))
    render_notice(notice)  # warm caches (fonts, templates, catalogs) for both sides
    recorder = _Recorder()
    recorder.install()
    render_notice(notice)
    recorder.uninstall()
    calls = recorder.calls
    raw_page(calls)
    # a fresh notice each time so per-letter caches do not flatter us
    counter = iter(range(10**9))

    def ours() -> bytes:
        return render_notice(notice.model_copy(update={"tracking_number": f"ROI-{next(counter)}"}))

    baseline, letters = rates(lambda: raw_page(calls), ours, args.seconds)
    print(f"language            {args.language}")
    print(f"text runs per page  {len(calls)}")
    print(f"raw reportlab       {baseline:8.1f} pages/s")
    print(f"render_notice       {letters:8.1f} letters/s")
    print(f"ratio (raw/ours)    {baseline / letters:8.2f}x  (target <= 1.5x, >= 170 letters/s)")


if __name__ == "__main__":
    main()
