"""Page furniture and drawing: letterhead, envelope windows, page numbers, metadata.

US Letter, laid out for a #10 double-window envelope (letter tri-folded):
the return address sits in the upper window (0.5 in from the top and left edges) and the
recipient's address in the lower one (1 in from the left, 2 in from the top, 3.75 x 1 in,
at most five lines). Letterhead and the date block are site- and language-aware; right-to-left
languages are right-aligned while the windows stay where the envelope has them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from domain.sites import SiteProfile
from letters.errors import LetterError
from letters.layout import Box, Frame, Op, Rule, Text
from letters.shaping import unit_width, visual_runs

PAGE_W, PAGE_H = LETTER
MARGIN = 1.0 * inch
LETTER_FRAME = Frame(
    left=MARGIN,
    right=PAGE_W - MARGIN,
    first_top=PAGE_H - 3.3 * inch,
    next_top=PAGE_H - 1.0 * inch,
    bottom=0.9 * inch,
)
FORM_FRAME = Frame(
    left=0.75 * inch,
    right=PAGE_W - 0.75 * inch,
    first_top=PAGE_H - 1.55 * inch,
    next_top=PAGE_H - 1.0 * inch,
    bottom=0.8 * inch,
)

RETURN_WINDOW = (0.5 * inch, PAGE_H - 0.5 * inch)  # left, top
RECIPIENT_WINDOW = (1.0 * inch, PAGE_H - 2.0 * inch, 3.75 * inch, 1.0 * inch)  # x, top, w, h
WINDOW_SIZE, WINDOW_LEADING, WINDOW_MAX_LINES = 10.0, 12.5, 5

LABEL_SIZE = (6 * inch, 4 * inch)  # 6 x 4 in shipping label, landscape


@dataclass(frozen=True)
class Furniture:
    """What every page of one letter shows besides its body."""

    title: str
    site: SiteProfile
    return_address: tuple[str, ...]  # the team's (domain.contacts), in the upper window
    organization: str  # localized team line ("Release of Information", …)
    contact_lines: tuple[str, ...]
    date_block: tuple[str, ...]
    recipient: tuple[str, ...]
    page_label: str  # e.g. "Page {page} of {pages}", localized
    continued: str  # header on later pages
    rtl: bool


def check_window(lines: Sequence[str]) -> None:
    """Refuse an address that would not show in the envelope window."""
    if len(lines) > WINDOW_MAX_LINES:
        raise LetterError(
            f"recipient_address does not fit the envelope window: {len(lines)} lines "
            f"(at most {WINDOW_MAX_LINES} with the name)"
        )
    for number, line in enumerate(lines, start=1):
        if unit_width(line, False) * WINDOW_SIZE > RECIPIENT_WINDOW[2]:
            raise LetterError(
                f"recipient_address line {number} is too wide for the envelope window"
            )


LABEL_MAX_LINES, LABEL_SIZE_PT = 6, 14.0


def check_label(lines: Sequence[str]) -> None:
    """Refuse a shipping address that would run off the 6 x 4 in label."""
    if len(lines) > LABEL_MAX_LINES:
        raise LetterError(
            f"recipient_address does not fit the mailing label: {len(lines)} lines "
            f"(at most {LABEL_MAX_LINES} with the name)"
        )
    for number, line in enumerate(lines, start=1):
        if unit_width(line, False) * LABEL_SIZE_PT > LABEL_SIZE[0] - 72:
            raise LetterError(f"recipient_address line {number} is too wide for the mailing label")


class Painter:
    """Draws operations on a canvas, switching fonts only when needed."""

    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self.font: tuple[str, float] | None = None

    def text(self, op: Text) -> None:
        x = op.x
        for font, chunk in op.runs:
            if op.bold:
                obj = self.c.beginText(x, op.y)
                obj.setFont(font, op.size)
                obj.setTextRenderMode(2)
                obj.textOut(chunk)
                obj.setTextRenderMode(0)
                self.c.setLineWidth(op.size * 0.03)
                self.c.drawText(obj)
                self.font = None
            else:
                if self.font != (font, op.size):
                    self.c.setFont(font, op.size)
                    self.font = (font, op.size)
                self.c.drawString(x, op.y, chunk)
            x += stringWidth(chunk, font, op.size)

    def line(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        rtl: bool,
        bold: bool = False,
        right: bool | None = None,
    ) -> None:
        """One line of furniture text; `x` is its start edge (its right edge when right-aligned)."""
        if rtl if right is None else right:
            x -= unit_width(text, rtl) * size
        self.text(Text(x, y, visual_runs(text, rtl), size, bold))

    def ops(self, ops: Sequence[Op]) -> None:
        for op in ops:
            if isinstance(op, Text):
                self.text(op)
            elif isinstance(op, Rule):
                self.c.setLineWidth(0.6)
                self.c.line(op.x1, op.y, op.x2, op.y)
            elif isinstance(op, Box):
                self.c.setLineWidth(0.8)
                self.c.rect(op.x, op.y, op.side, op.side, stroke=1, fill=0)


def _first_page(p: Painter, f: Furniture) -> None:
    x, top = RETURN_WINDOW
    for i, line in enumerate(f.return_address):  # a US postal address, as the USPS reads it
        p.line(x, top - 9 - i * 9.5, line, 8, False, bold=i == 0)
    right = PAGE_W - 0.5 * inch
    p.line(right, top - 12, f.organization, 12, f.rtl, bold=True, right=True)
    for i, line in enumerate(f.contact_lines):
        p.line(right, top - 26 - i * 10.5, line, 8, f.rtl, right=True)
    wx, wtop, _, _ = RECIPIENT_WINDOW
    for i, line in enumerate(f.recipient):
        p.line(wx, wtop - WINDOW_SIZE - i * WINDOW_LEADING, line, WINDOW_SIZE, False)
    block_x = PAGE_W - MARGIN if f.rtl else 5.0 * inch
    for i, line in enumerate(f.date_block):
        p.line(block_x, wtop - 10 - i * 13, line, 9.5, f.rtl)


def _later_page(p: Painter, f: Furniture) -> None:
    start = PAGE_W - MARGIN if f.rtl else MARGIN
    p.line(start, PAGE_H - 0.6 * inch, f.continued, 8.5, f.rtl)
    p.c.setLineWidth(0.4)
    p.c.line(MARGIN, PAGE_H - 0.68 * inch, PAGE_W - MARGIN, PAGE_H - 0.68 * inch)


def _footer(p: Painter, f: Furniture, page: int, pages: int) -> None:
    label = f.page_label.format(page=page, pages=pages)
    width = unit_width(label, f.rtl) * 8.5
    p.text(Text((PAGE_W - width) / 2, 0.45 * inch, visual_runs(label, f.rtl), 8.5, False))


def new_canvas(
    buffer: io.BytesIO,
    title: str,
    subject: str,
    author: str,
    lang: str,
    pagesize: tuple[float, float] = LETTER,
) -> Canvas:
    """A deterministic canvas (invariant=1: fixed dates and ids) with tagged metadata."""
    canvas = Canvas(buffer, pagesize=pagesize, invariant=1, lang=lang, pageCompression=1)
    canvas.setTitle(title)
    canvas.setSubject(subject)
    canvas.setAuthor(author)
    canvas.setCreator("roi-engine letters")
    canvas.setViewerPreference("DisplayDocTitle", "true")
    return canvas


def draw_letter(
    canvas: Canvas, pages: list[list[Op]], furniture: Furniture, form: bool = False
) -> None:
    """Every page: furniture, body operations, page number."""
    p = Painter(canvas)
    total = len(pages)
    for number, ops in enumerate(pages, start=1):
        p.font = None
        if number == 1 and not form:
            _first_page(p, furniture)
        elif number == 1:
            _form_head(p, furniture)
        else:
            _later_page(p, furniture)
        p.ops(ops)
        _footer(p, furniture, number, total)
        canvas.showPage()


def _form_head(p: Painter, f: Furniture) -> None:
    start = PAGE_W - 0.75 * inch if f.rtl else 0.75 * inch
    top = PAGE_H - 0.6 * inch
    p.line(start, top, f.organization, 10, f.rtl, bold=True)
    for i, line in enumerate(f.contact_lines):
        p.line(start, top - 13 - i * 10, line, 7.5, f.rtl)
    p.line(start, PAGE_H - 1.35 * inch, f.title, 13, f.rtl, bold=True)


def draw_label(
    canvas: Canvas,
    lines_from: Sequence[str],
    lines_to: Sequence[str],
    footer: Sequence[str],
    rtl: bool,
) -> None:
    """A 6 x 4 in shipping label: return address, recipient in large type, references."""
    p = Painter(canvas)
    w, h = LABEL_SIZE
    for i, line in enumerate(lines_from):
        p.line(18, h - 24 - i * 10, line, 8, False, bold=i == 0)
    canvas.setLineWidth(1)
    canvas.line(12, h - 96, w - 12, h - 96)
    for i, line in enumerate(lines_to):
        p.line(54, h - 126 - i * 17, line, LABEL_SIZE_PT, False, bold=i == 0)
    canvas.line(12, 60, w - 12, 60)
    for i, line in enumerate(footer):
        p.line(w - 18 if rtl else 18, 42 - i * 12, line, 9, rtl)
    canvas.showPage()
