"""The portal's languages: gettext catalogs (`portal/locale/<lang>/LC_MESSAGES/portal.po`)
compiled in memory at start-up with Babel, so a translator edits `.po` files and no `.mo` file
is ever needed in git; dates and money through the letters' Babel formats (letters/formatting.py,
which also knows that CLDR has no Hmong data).

Which language a page is in: `?lang=`, then the `roi_portal_lang` cookie, then the browser's
Accept-Language, then English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from domain.types import Language
from letters.formatting import formats_for

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "portal"
DEFAULT = Language.EN
#: Languages written right to left.
RTL = frozenset({Language.AR})


@dataclass(frozen=True)
class LanguageChoice:
    """A language as the switcher offers it: its code and its own name (an endonym)."""

    code: str
    name: str


#: Each language named in itself, in the order the hospital's page lists them.
CHOICES: tuple[LanguageChoice, ...] = (
    LanguageChoice("en", "English"),
    LanguageChoice("es", "Español"),
    LanguageChoice("ar", "العربية"),
    LanguageChoice("so", "Soomaali"),
    LanguageChoice("hmn", "Hmoob"),
)


def po_path(language: Language) -> Path:
    """Where a language's catalog lives."""
    return LOCALE_DIR / language.value / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: Language) -> Translations:
    """A language's compiled catalog (fuzzy entries left out, as `pybabel compile` does).
    English is the source text: its catalog is empty and gettext returns the msgid."""
    path = po_path(language)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=None, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def parse(code: str | None) -> Language | None:
    """A supported language from a code such as `es`, `es-MX` or `AR` (None: not ours)."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    try:
        return Language(base)
    except ValueError:
        return None


def from_accept_language(header: str | None) -> Language | None:
    """The first supported language of an Accept-Language header, by its q-values."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    for _q, _p, tag in sorted(ranked):
        found = parse(tag)
        if found is not None:
            return found
    return None


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> Language:
    """The page's language: ?lang=, then the cookie, then Accept-Language, then English."""
    return parse(query) or parse(cookie) or from_accept_language(accept_language) or DEFAULT


def direction(language: Language) -> str:
    """`rtl` or `ltr`, for <html dir>."""
    return "rtl" if language in RTL else "ltr"


def format_day(language: Language, value: date) -> str:
    """A date as people read it in this language (Babel; ISO 8601 for Hmong, which CLDR
    lacks)."""
    return formats_for(language).date(value)


def format_money(language: Language, cents: int) -> str:
    """US dollars from integer cents in this language's conventions (Babel)."""
    return formats_for(language).money(cents)
