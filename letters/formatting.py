"""Dates, money and numbers per locale (Babel), with an honest fallback for Hmong.

Babel (CLDR) has data for en, es, ar and so but none for Hmong (`hmn`). A Hmong letter
therefore formats dates as ISO 8601 (2026-03-12: no month names, unambiguous) and money and
numbers with US conventions ($45.00, 1,234): numerals only, never English words.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

from domain.types import Language

#: Babel locale per letter language (None: no CLDR data; see the module docstring).
BABEL_LOCALE: dict[Language, str | None] = {
    Language.EN: "en_US",
    Language.ES: "es_US",
    Language.AR: "ar",
    Language.SO: "so",
    Language.HMN: None,
}
_NUMERIC_FALLBACK = "en_US"


class Formats:
    """Locale-aware formatting for one letter language."""

    def __init__(self, language: Language) -> None:
        code = BABEL_LOCALE[language]
        self.locale: Locale | None = Locale.parse(code) if code else None
        self._numbers = self.locale or Locale.parse(_NUMERIC_FALLBACK)

    def date(self, value: date) -> str:
        """A date as people in this language write it (ISO 8601 without locale data)."""
        if self.locale is None:
            return value.isoformat()
        return format_date(value, "long", locale=self.locale)

    def time(self, value: time) -> str:
        """A clock time (24-hour HH:MM without locale data)."""
        if self.locale is None:
            return value.strftime("%H:%M")
        return format_time(value, "short", locale=self.locale)

    def money(self, cents: int) -> str:
        """US dollars from integer cents, never through float."""
        return format_currency(Decimal(cents) / 100, "USD", locale=self._numbers)

    def number(self, value: int) -> str:
        """A count (pages, entries)."""
        return format_decimal(value, locale=self._numbers)


@cache
def formats_for(language: Language) -> Formats:
    """Shared, immutable formatter for a language."""
    return Formats(language)
