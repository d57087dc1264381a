"""Write `letters/TRANSLATION_REVIEW.md`: which strings still need a qualified translator.

    .venv/bin/python -m letters.review

A key leaves the list when a reviewer removes the `#, fuzzy` flag from its entry in the
language's `letters/locale/<lang>/LC_MESSAGES/letters.po`.
"""

from __future__ import annotations

from pathlib import Path

from domain.types import Language
from letters.catalog import catalog_for

OUT = Path(__file__).parent / "TRANSLATION_REVIEW.md"

HEADER = """# Translations awaiting review

Every Spanish, Arabic, Somali and Hmong string in `letters/locale/<lang>/LC_MESSAGES/letters.po`
flagged `#, fuzzy` is a **draft written by an engineer**, not by a qualified medical/legal
translator. Before letters in a language go to patients, a qualified translator must review
each key below (the entry's `msgctxt`; and the rendered PDFs in `test-artifacts/letters/`),
then remove the `fuzzy` flag from that entry and re-run `.venv/bin/python -m letters.review`.

Notes for reviewers:
- Legal terms with fixed English names (court documents, HHS Office for Civil Rights address,
  "42 CFR Part 2") are kept in English in parentheses on purpose: the reader must recognise
  the actual English-language document or address.
- Text staff type (extension reasons, denial explanations, billing answers, released-item
  descriptions, accounting entries) is printed as written under a translated label ("In our
  staff's words, as written"); staff should write it in the requester's language.
- Hmong has no CLDR locale data: dates print as ISO 8601 (2026-03-12) and money as $45.00.
- Somali month names come from CLDR (Babel); Arabic uses CLDR `ar` (Western digits).
- The complaint contact is the hospital "Privacy Officer" at the site's ROI address and
  phone; a dedicated privacy-office phone would be better (`domain/sites.py`).

"""


def report() -> str:
    """The review list as Markdown."""
    lines = [HEADER]
    for language in Language:
        if language == Language.EN:
            continue
        catalog = catalog_for(language)
        drafts = catalog.drafts()
        lines.append(
            f"## {language.value}: {len(drafts)} of {len(catalog.strings)} strings need review\n"
        )
        lines.extend(f"- `{key}`" for key in drafts)
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.write_text(report(), encoding="utf-8")
    print(f"wrote {OUT}")
