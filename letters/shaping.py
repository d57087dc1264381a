"""Text into font runs in visual order: Arabic shaped (joined forms) and reordered (bidi).

Arabic needs two steps reportlab does not do: contextual shaping (arabic-reshaper picks the
joined presentation forms, including lam-alef ligatures) and the Unicode bidi algorithm
(python-bidi puts a right-to-left line into the left-to-right order a PDF draws in). Every
line is then split into runs by face: Arabic letters in Noto Sans Arabic, the rest in Noto
Sans. Lines without Arabic letters take a fast path.
"""

from __future__ import annotations

import re
from functools import lru_cache

import arabic_reshaper
from bidi import get_display
from bidi.mirror import MIRRORED
from reportlab.pdfbase.pdfmetrics import stringWidth

from letters.fonts import ARABIC, LATIN, is_arabic, register_fonts

Run = tuple[str, str]  # (font name, text)

_ARABIC_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
_RESHAPER = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False})


def has_arabic(text: str) -> bool:
    """Whether the text contains Arabic letters (and so needs shaping and bidi)."""
    return _ARABIC_RE.search(text) is not None


def _split_runs(visual: str, rtl: bool) -> list[Run]:
    runs: list[Run] = []
    current = ARABIC if rtl else LATIN
    start = 0
    for i, char in enumerate(visual):
        if is_arabic(char):
            face = ARABIC
        elif char.isascii() and char.isalpha():
            face = LATIN
        else:
            continue  # digits, spaces, punctuation: both faces have them; stay in the run
        if face != current:
            if i > start:
                runs.append((current, visual[start:i]))
            current, start = face, i
    if start < len(visual):
        runs.append((current, visual[start:]))
    return runs


_LEVEL_RE = re.compile(r"Level\(\s*(\d+),?\s*\)")
_MIRRORABLE = frozenset(MIRRORED)


def _levels(text: str, rtl: bool) -> list[int] | None:
    """Resolved bidi embedding level of each character (from unicode-bidi's BidiInfo)."""
    info = get_display(text, base_dir="R" if rtl else "L", debug=True)
    start, end = info.find("levels:"), info.find("paragraphs:")
    per_byte = [int(level) for level in _LEVEL_RE.findall(info, start, end)]
    levels: list[int] = []
    offset = 0
    for char in text:
        if offset >= len(per_byte):
            return None
        levels.append(per_byte[offset])
        offset += len(char.encode("utf-8"))
    return levels if offset == len(per_byte) else None


def _reorder_mirrored(text: str, rtl: bool) -> str:
    """Visual order with brackets mirrored at right-to-left levels (UBA L2 and L4).

    python-bidi's `get_display` reorders but leaves mirroring (L4) to the renderer, which
    reportlab is not; so for lines with brackets we take the resolved levels and do both.
    """
    levels = _levels(text, rtl)
    if levels is None:  # unexpected debug format: correct order, unmirrored brackets
        return get_display(text, base_dir="R" if rtl else "L")
    base = 1 if rtl else 0
    for i in range(len(text) - 1, -1, -1):  # L1: trailing whitespace takes the base level
        if not text[i].isspace():
            break
        levels[i] = base
    chars = [MIRRORED.get(c, c) if level % 2 else c for c, level in zip(text, levels, strict=True)]
    order = list(range(len(text)))
    odd = [level for level in levels if level % 2]
    lowest = min(odd) if odd else max(levels) + 1
    for level in range(max(levels), lowest - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    return "".join(chars[k] for k in order)


@lru_cache(maxsize=8192)
def visual_runs(line: str, rtl: bool) -> tuple[Run, ...]:
    """The line as font runs in drawing (left-to-right) order."""
    register_fonts()
    if not rtl and not has_arabic(line):
        return ((LATIN, line),)
    shaped = _RESHAPER.reshape(line)
    if _MIRRORABLE.isdisjoint(shaped):
        visual = get_display(shaped, base_dir="R" if rtl else "L")
    else:
        visual = _reorder_mirrored(shaped, rtl)
    visual = visual.translate(_BIDI_CONTROLS)
    return tuple(_split_runs(visual, rtl))


@lru_cache(maxsize=65536)
def unit_width(word: str, rtl: bool) -> float:
    """Width of a word (or line) at font size 1, as it will be drawn."""
    return sum(stringWidth(text, font, 1) for font, text in visual_runs(word, rtl))
