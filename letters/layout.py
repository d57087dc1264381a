"""Body text into positioned lines on pages: a small, fast layout engine over reportlab.

Templates produce a plain markup (one block per line, blank line between paragraphs):

    # title            ## section heading      - bullet           > quoted text (as written)
    = label | value    =! label | value (total, bold)             [] checkbox item
    _ label            (a fill-in line on the form)                __ label (label + blank line)
    ~                  (a small gap)                              ^^^ (page break)

Anything else is paragraph text; consecutive lines join. Lines are measured with the real
fonts (shaped Arabic included), wrapped greedily, mirrored for right-to-left languages, and
split into pages; page furniture (letterhead, window address, page numbers) is drawn by
`letters.page`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from letters.shaping import Run, unit_width, visual_runs


class Text(NamedTuple):
    """A line of text to draw: left x, baseline y, runs in visual order."""

    x: float
    y: float
    runs: tuple[Run, ...]
    size: float
    bold: bool


class Rule(NamedTuple):
    """A horizontal line (fill-in field, total)."""

    x1: float
    y: float
    x2: float


class Box(NamedTuple):
    """An empty checkbox."""

    x: float
    y: float
    side: float


Op = Text | Rule | Box


@dataclass(frozen=True)
class Frame:
    """Where body text goes on the first and on later pages."""

    left: float
    right: float
    first_top: float
    next_top: float
    bottom: float


@dataclass(frozen=True)
class Style:
    size: float
    leading: float
    before: float = 0.0
    after: float = 0.0
    bold: bool = False


STYLES: dict[str, Style] = {
    "h1": Style(14.0, 18.0, 0.0, 8.0, True),
    "h2": Style(11.0, 14.5, 6.0, 2.0, True),
    "p": Style(10.0, 13.5, 0.0, 6.0),
    "li": Style(10.0, 13.5, 0.0, 3.0),
    "quote": Style(10.0, 13.5, 0.0, 6.0),
    "row": Style(10.0, 14.0, 0.0, 1.0),
    "total": Style(10.0, 15.0, 2.0, 6.0, True),
    "box": Style(10.0, 13.5, 0.0, 4.0),
    "field": Style(9.5, 13.0, 8.0, 4.0),
}
BULLET_INDENT = 14.0
QUOTE_INDENT = 18.0


@dataclass
class Block:
    kind: str
    text: str = ""
    value: str = ""


def parse(markup: str) -> list[Block]:
    """The template's output as blocks."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("p", " ".join(para)))
            para.clear()

    for raw in markup.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        head, _, rest = line.partition(" ")
        kind = {
            "#": "h1",
            "##": "h2",
            "-": "li",
            ">": "quote",
            "=": "row",
            "=!": "total",
            "[]": "box",
            "_": "field",
            "__": "field2",
        }.get(head)
        if line in ("~", "^^^"):
            flush()
            blocks.append(Block("gap" if line == "~" else "break"))
        elif kind is None:
            para.append(line)
        else:
            flush()
            if kind in ("row", "total"):
                label, _, value = rest.partition(" | ")
                blocks.append(Block(kind, label.strip(), value.strip()))
            else:
                blocks.append(Block(kind, rest.strip()))
    flush()
    return blocks


def wrap(text: str, width: float, size: float, rtl: bool) -> list[str]:
    """Greedy word wrap measured with the real (shaped) glyph widths."""
    space = unit_width(" ", rtl) * size
    lines: list[str] = []
    words: list[str] = []
    used = 0.0
    for word in text.split(" "):  # not split(): a no-break space (U+00A0) holds words together
        if not word:
            continue
        w = unit_width(word, rtl) * size
        if words and used + space + w > width:
            lines.append(" ".join(words))
            words, used = [], 0.0
        if not words and w > width:  # a single overlong token (a URL): break by characters
            chunk = ""
            for char in word:
                if chunk and unit_width(chunk + char, rtl) * size > width:
                    lines.append(chunk)
                    chunk = ""
                chunk += char
            word, w = chunk, unit_width(chunk, rtl) * size
        used = used + space + w if words else w
        words.append(word)
    if words:
        lines.append(" ".join(words))
    return lines


@dataclass
class Layout:
    """Places blocks into pages of drawing operations."""

    frame: Frame
    rtl: bool
    pages: list[list[Op]] = field(default_factory=lambda: [[]])
    y: float = 0.0

    def __post_init__(self) -> None:
        self.y = self.frame.first_top

    def _need(self, height: float) -> None:
        if self.y - height < self.frame.bottom:
            self.new_page()

    def new_page(self) -> None:
        """Continue on a fresh page."""
        self.pages.append([])
        self.y = self.frame.next_top

    def _line(self, text: str, left: float, right: float, style: Style) -> None:
        """One already-wrapped line, aligned to the start side (left, or right when RTL)."""
        self._need(style.leading)
        self.y -= style.leading
        runs = visual_runs(text, self.rtl)
        x = right - unit_width(text, self.rtl) * style.size if self.rtl else left
        self.pages[-1].append(Text(x, self.y + 3.0, runs, style.size, style.bold))

    def _paragraph(self, text: str, style: Style, indent: float = 0.0) -> tuple[int, float]:
        """Wrap and place text; returns the page index and baseline y of its first line."""
        left, right = self.frame.left, self.frame.right
        if self.rtl:
            right -= indent
        else:
            left += indent
        lines = wrap(text, right - left, style.size, self.rtl)
        keep = 3 if style.bold else min(len(lines), 2)  # a heading keeps two lines with it
        self._need(style.before + style.leading * keep)
        self.y -= style.before
        first = (len(self.pages) - 1, self.y - style.leading + 3.0)
        for line in lines:
            self._line(line, left, right, style)
        self.y -= style.after
        return first

    def _marker(self, at: tuple[int, float], size: float, text: str = "") -> None:
        """A bullet (or, with no text, a checkbox) at the start side of a first line."""
        page, y = at
        if not text:
            side = size * 0.8
            x = self.frame.right - side if self.rtl else self.frame.left
            self.pages[page].append(Box(x, y - 0.5, side))
            return
        runs = visual_runs(text, False)
        width = unit_width(text, False) * size
        x = self.frame.right - width if self.rtl else self.frame.left
        self.pages[page].append(Text(x, y, runs, size, False))

    def _row(self, block: Block, style: Style) -> None:
        self._need(style.before + style.leading)
        self.y -= style.before + style.leading
        base = self.y + 3.0
        start, end = (
            (self.frame.right, self.frame.left)
            if self.rtl
            else (
                self.frame.left,
                self.frame.right,
            )
        )
        label_w = unit_width(block.text, self.rtl) * style.size
        value_w = unit_width(block.value, self.rtl) * style.size
        label_x = start - label_w if self.rtl else start
        value_x = end if self.rtl else end - value_w
        page = self.pages[-1]
        if block.kind == "total":
            page.append(Rule(self.frame.left, self.y + style.leading - 1.0, self.frame.right))
        page.append(Text(label_x, base, visual_runs(block.text, self.rtl), style.size, style.bold))
        page.append(Text(value_x, base, visual_runs(block.value, self.rtl), style.size, style.bold))
        self.y -= style.after

    def _field(self, block: Block, style: Style, extra_line: bool) -> None:
        rows = 2 if extra_line else 1
        self._need(style.before + style.leading * rows + 4)
        self.y -= style.before + style.leading
        base = self.y + 3.0
        width = unit_width(block.text, self.rtl) * style.size
        left, right = self.frame.left, self.frame.right
        page = self.pages[-1]
        if self.rtl:
            page.append(Text(right - width, base, visual_runs(block.text, True), style.size, False))
            page.append(Rule(left, base - 2.0, right - width - 6.0))
        else:
            page.append(Text(left, base, visual_runs(block.text, False), style.size, False))
            page.append(Rule(left + width + 6.0, base - 2.0, right))
        if extra_line:
            self.y -= style.leading + 4
            page.append(Rule(left, self.y + 1.0, right))
        self.y -= style.after

    def add(self, block: Block) -> None:
        """Place one block."""
        if block.kind == "break":
            self.new_page()
        elif block.kind == "gap":
            self.y -= 8.0
        elif block.kind in ("row", "total"):
            self._row(block, STYLES[block.kind])
        elif block.kind in ("field", "field2"):
            self._field(block, STYLES["field"], block.kind == "field2")
        elif block.kind == "li":
            style = STYLES["li"]
            self._marker(self._paragraph(block.text, style, BULLET_INDENT), style.size, "•")
        elif block.kind == "box":
            style = STYLES["box"]
            self._marker(self._paragraph(block.text, style, BULLET_INDENT), style.size)
        elif block.kind == "quote":
            self._paragraph(block.text, STYLES["quote"], QUOTE_INDENT)
        else:
            self._paragraph(block.text, STYLES[block.kind])


def lay_out(markup: str, frame: Frame, rtl: bool) -> list[list[Op]]:
    """Pages of drawing operations for the body markup."""
    layout = Layout(frame, rtl)
    for block in parse(markup):
        layout.add(block)
    return layout.pages
