"""The letters' gettext catalogs: complete in every language, drafts flagged fuzzy, no English
fall-back, and the strings the portal shares read from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from domain.types import Language
from letters import LetterError
from letters.catalog import TEMPLATE, catalog_for, po_path, read_catalog, shared_text


def _entries(path: Path) -> dict[str, tuple[str, str, bool]]:
    """msgctxt -> (msgid, msgstr, fuzzy) of every entry of a .po/.pot file."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    entries: dict[str, tuple[str, str, bool]] = {}
    for message in catalog:
        if not message.id:
            continue
        assert message.context, f"{path}: {message.id!r} has no msgctxt (its key)"
        assert message.context not in entries, f"{path}: {message.context} twice"
        entries[message.context] = (str(message.id), str(message.string or ""), message.fuzzy)
    return entries


def test_every_language_has_every_key_of_the_template_translated() -> None:
    template = _entries(TEMPLATE)
    assert len(template) > 200
    for language in Language:
        entries = _entries(po_path(language))
        assert set(entries) == set(template), language
        for key, (msgid, msgstr, _fuzzy) in entries.items():
            assert msgid == template[key][0], f"{language.value}: {key} translates old English"
            if language != Language.EN:
                assert msgstr.strip(), f"{language.value}: no text for {key}"


def test_unreviewed_keys_are_fuzzy_and_reviewed_ones_are_not() -> None:
    for language in Language:
        entries = _entries(po_path(language))
        catalog = catalog_for(language)
        fuzzy = {key for key, (_i, _s, flagged) in entries.items() if flagged}
        assert catalog.reviewed == set(entries) - fuzzy, language
        if language == Language.EN:
            assert not fuzzy  # the source text is not a draft
            assert catalog.drafts() == []
        else:
            assert catalog.drafts() == sorted(fuzzy), language


PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"

#, fuzzy
msgctxt "a.draft"
msgid "Draft {name}"
msgstr "Borrador {name}"

msgctxt "a.reviewed"
msgid "Reviewed"
msgstr "Revisado"

msgctxt "a.untranslated"
msgid "Not translated yet"
msgstr ""
"""


def test_a_po_file_reads_drafts_reviewed_and_never_falls_back_to_english(
    tmp_path: Path,
) -> None:
    path = tmp_path / "letters.po"
    path.write_text(PO, encoding="utf-8")
    catalog = read_catalog(Language.ES, path)
    assert catalog.text("a.draft", name="Ana") == "Borrador Ana"  # drafts are printed
    assert catalog.text("a.reviewed") == "Revisado"
    assert catalog.drafts() == ["a.draft"]
    assert catalog.reviewed == {"a.reviewed"}
    assert not catalog.has("a.untranslated")
    with pytest.raises(LetterError, match=r"no es text for a\.untranslated"):
        catalog.text("a.untranslated")
    english = read_catalog(Language.EN, path)
    assert english.text("a.untranslated") == "Not translated yet"  # English: the msgid


def test_shared_text_is_the_letters_text() -> None:
    for language in Language:
        catalog = catalog_for(language)
        assert shared_text(language, "receipt.fedex_tracking", number="7946") == catalog.text(
            "receipt.fedex_tracking", number="7946"
        )
    assert "\u20687946\u2069" in shared_text(Language.AR, "receipt.fedex_tracking", number="7946")
    with pytest.raises(LetterError):
        shared_text(Language.SO, "no.such_key")
