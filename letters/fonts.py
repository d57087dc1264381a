"""Fonts shipped as Python packages (fontpkg), registered once and embedded in every PDF.

A fresh machine needs no system fonts: Noto Sans covers Latin (English, Spanish, Somali,
Hmong) and Noto Sans Arabic covers Arabic, including the presentation forms the shaper emits.
"""

from __future__ import annotations

from functools import cache

import fontpkg
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from letters.errors import LetterError

LATIN = "RoiNotoSans"
ARABIC = "RoiNotoSansArabic"


@cache
def register_fonts() -> tuple[str, str]:
    """Register both faces with reportlab (idempotent); returns (latin, arabic) font names."""
    try:
        latin = fontpkg.path("Noto Sans")
        arabic = fontpkg.path("Noto Sans Arabic")
    except fontpkg.FontpkgError as error:  # a broken install, not a bad notice
        raise LetterError("letter fonts are not installed (fontpkg-noto-sans*)") from error
    pdfmetrics.registerFont(TTFont(LATIN, str(latin)))
    pdfmetrics.registerFont(TTFont(ARABIC, str(arabic)))
    return LATIN, ARABIC


def is_arabic(char: str) -> bool:
    """Whether a character must be drawn with the Arabic face."""
    code = ord(char)
    return (
        0x0600 <= code <= 0x06FF
        or 0x0750 <= code <= 0x077F
        or 0x08A0 <= code <= 0x08FF
        or 0xFB50 <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFF
    )
