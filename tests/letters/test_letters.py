"""Every notice in every language renders as a correct, deterministic PDF; bad input is refused."""

from __future__ import annotations

import ast
import io
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from domain.denial import DenialBasis
from domain.errors import FieldIssue
from domain.notices import NoticeKind
from domain.sites import site_profile
from domain.types import Language, Site
from letters import LetterError, render_authorization_form, render_notice
from letters.catalog import catalog_for
from letters.formatting import formats_for
from letters.samples import sample_notice

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "letters"


def text_of(pdf: bytes) -> str:
    """Extracted text, normalized: Arabic presentation forms back to letters, spaces folded."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", raw).split())


def squash(text: str) -> str:
    return re.sub(r"\W+", "", unicodedata.normalize("NFKC", text))


def words(language: Language, key: str, count: int = 3) -> list[str]:
    """A few long words of a catalog string (Arabic extraction keeps words, not line order)."""
    found = re.findall(r"\w{4,}", catalog_for(language).strings[key])
    return found[:count]


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_renders_in_every_language(kind: NoticeKind, language: Language) -> None:
    pdf = render_notice(sample_notice(kind, language))
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    title_key = "form.title" if kind == NoticeKind.AUTHORIZATION_FORM else f"{kind.value}.title"
    printed = reader.metadata.title if kind == NoticeKind.MAILING_LABEL else text
    for word in words(language, title_key):
        assert word in unicodedata.normalize("NFKC", printed), (kind, language, word)
    if kind != NoticeKind.AUTHORIZATION_FORM:
        assert "ROI-7K3QD-M2X9A" in text.replace("\u2068", "").replace("\u2069", "")
    assert reader.metadata.title  # tagged title
    assert b"/Lang" in pdf
    assert b"FontFile2" in pdf  # fonts embedded


@pytest.mark.parametrize("language", list(Language))
def test_deficiency_notice_names_each_deficiency(language: Language) -> None:
    codes = ["signature_missing", "expired", "purpose_missing", "recipient_missing"]
    notice = sample_notice(
        NoticeKind.DEFICIENCY,
        language,
        deficiencies=[FieldIssue(field="f", code=c, message="-") for c in codes],
    )
    text = text_of(render_notice(notice))
    for code in codes:
        for word in words(language, f"deficiency.code.{code}", 4):
            assert word in text, (code, word)


@pytest.mark.parametrize("language", list(Language))
def test_extension_has_reason_and_new_date(language: Language) -> None:
    notice = sample_notice(NoticeKind.EXTENSION, language)
    text = text_of(render_notice(notice))
    new_date = formats_for(language).date(date(2026, 4, 30))
    for part in re.findall(r"\w+", new_date):
        assert part in text
    assert "archive" in text  # the staff's reason, as written
    for word in words(language, "extension.new_date"):
        assert word in text


@pytest.mark.parametrize("language", list(Language))
def test_denial_has_basis_review_right_and_hhs_route(language: Language) -> None:
    reviewable = text_of(render_notice(sample_notice(NoticeKind.DENIAL, language)))
    assert "hhs.gov/ocr/complaints" in reviewable
    assert "1-800-368-1019" in squash(reviewable) or "18003681019" in squash(reviewable)
    assert "164.524(a)(3)(i)" in reviewable
    for word in words(language, "denial.review_yes"):
        assert word in reviewable
    final = text_of(
        render_notice(
            sample_notice(NoticeKind.DENIAL, language, denial_basis=DenialBasis.PSYCHOTHERAPY_NOTES)
        )
    )
    for word in words(language, "denial.review_no"):
        assert word in final


def test_english_denial_and_amendment_denial_read_right() -> None:
    denial = text_of(render_notice(sample_notice(NoticeKind.DENIAL)))
    assert "Secretary of the U.S. Department of Health and Human Services" in denial
    assert "Privacy Officer" in denial
    assert "licensed health care professional chosen by the hospital" in denial
    amendment = text_of(render_notice(sample_notice(NoticeKind.AMENDMENT_DENIED)))
    assert "statement disagreeing" in amendment
    assert "future disclosure" in amendment
    assert "164.526(a)(2)(iv)" in amendment
    assert "hhs.gov/ocr" in amendment


def test_adoption_rejection_lists_accepted_documents() -> None:
    text = text_of(render_notice(sample_notice(NoticeKind.ADOPTION_REJECTED, Language.ES)))
    assert "Un acta de nacimiento no prueba una adopción." in text
    for name in ("Adoption Decree", "Order on Petition for Adoption", "Finding and Order"):
        assert name in text


@pytest.mark.parametrize("language", list(Language))
def test_blank_form_has_every_508_element_and_statement(language: Language) -> None:
    text = text_of(render_authorization_form(language, Site.ARIZONA))
    for key in (
        "form.patient_name",
        "form.discloser_heading",
        "form.recipient_heading",
        "form.info_heading",
        "form.purpose_heading",
        "form.expiry",
        "form.signature",
        "form.signature_date",
        "form.representative_authority",
        "form.revoke",
        "form.conditioning",
        "form.redisclosure",
        "form.copy",
    ):
        for word in words(language, key, 2):
            assert word in text, (key, word)


def test_rendering_is_deterministic() -> None:
    for kind in (NoticeKind.DENIAL, NoticeKind.ACCOUNTING_REPORT):
        for language in (Language.EN, Language.AR):
            notice = sample_notice(kind, language)
            assert render_notice(notice) == render_notice(notice)
    assert render_authorization_form("hmn", "florida") == render_authorization_form(
        "hmn", "florida"
    )


def test_sites_have_their_own_letterhead() -> None:
    az = text_of(render_notice(sample_notice(NoticeKind.ACKNOWLEDGEMENT, site=Site.ARIZONA)))
    fl = text_of(render_notice(sample_notice(NoticeKind.ACKNOWLEDGEMENT, site=Site.FLORIDA)))
    assert "Mountain time" in az and "Eastern time" in fl


def test_long_letter_gets_page_numbers() -> None:
    entries = [
        {
            "date": "2024-06-10",
            "recipient": f"Court {i}",
            "address": "1 Main St",
            "description": "Record",
            "purpose": "Court order",
        }
        for i in range(40)
    ]
    pdf = render_notice(sample_notice(NoticeKind.ACCOUNTING_REPORT, accounting_entries=entries))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1
    assert f"Page 2 of {len(reader.pages)}" in reader.pages[1].extract_text()


def test_missing_field_is_refused_without_phi() -> None:
    notice = sample_notice(NoticeKind.EXTENSION, extension_reason="")
    with pytest.raises(LetterError, match="extension_reason") as caught:
        render_notice(notice)
    assert "Ana" not in str(caught.value)


def test_extension_after_due_date_is_refused() -> None:
    late = sample_notice(NoticeKind.EXTENSION, issued_on=date(2026, 4, 2))
    with pytest.raises(LetterError, match="before the original due date"):
        render_notice(late)


def test_unknown_language_is_refused() -> None:
    notice = sample_notice(NoticeKind.ACKNOWLEDGEMENT).model_copy(update={"language": "fr"})
    with pytest.raises(LetterError, match="language"):
        render_notice(notice)
    with pytest.raises(LetterError):
        render_authorization_form("fr", "arizona")


def test_address_too_long_for_window_is_refused() -> None:
    too_many = sample_notice(NoticeKind.ACKNOWLEDGEMENT, recipient_address=["Line"] * 6)
    with pytest.raises(LetterError, match="window"):
        render_notice(too_many)
    too_wide = sample_notice(
        NoticeKind.ACKNOWLEDGEMENT, recipient_address=["1234 Extraordinarily Long Boulevard " * 3]
    )
    with pytest.raises(LetterError, match="too wide") as caught:
        render_notice(too_wide)
    assert "Boulevard" not in str(caught.value)


def test_unknown_deficiency_code_is_refused_not_sent_in_english() -> None:
    notice = sample_notice(
        NoticeKind.DEFICIENCY,
        Language.SO,
        deficiencies=[FieldIssue(field="x", code="brand_new_code", message="English words")],
    )
    with pytest.raises(LetterError, match="brand_new_code"):
        render_notice(notice)


def test_catalogs_are_complete_with_the_same_placeholders() -> None:
    english = catalog_for(Language.EN).strings
    for language in Language:
        strings = catalog_for(language).strings
        assert set(strings) == set(english), language
        for key, text in english.items():
            assert sorted(re.findall(r"{(\w+)}", strings[key])) == sorted(
                re.findall(r"{(\w+)}", text)
            ), (language, key)


def test_every_deficiency_code_the_domain_produces_has_wording() -> None:
    codes: set[str] = set()
    for module in ("authorization.py", "release_basis.py"):
        tree = ast.parse((ROOT / "domain" / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "issue":
                code = node.args[1]
                if isinstance(code, ast.Constant):
                    codes.add(code.value)
    assert codes
    for language in Language:
        catalog = catalog_for(language)
        assert all(catalog.has(f"deficiency.code.{c}") for c in codes), language


#: Where things sit on page 1 of a letter, in inches from the top-left corner (letters/page.py):
#: the envelope's windows, the body's frame, and strips that must stay blank.
DPI = 80
RETURN_WINDOW_IN = (0.5, 0.5, 3.0, 1.2)
RECIPIENT_WINDOW_IN = (1.0, 2.0, 4.75, 3.0)  # 1 in from the left, 2 in from the top, 3.75 x 1 in
BODY_IN = (0.9, 3.3, 7.6, 9.6)  # 1 in margins; the body starts 3.3 in down on page 1
BLANK_IN = {
    "left margin": (0.0, 0.0, 0.45, 11.0),
    "left of the address window": (0.0, 1.9, 0.95, 3.1),
    "between the address window and the body": (1.0, 3.05, 4.75, 3.25),
}


def _pdftotext(pdf: bytes, *crop: str) -> str:
    """Page 1's text (optionally only inside a crop box given in points)."""
    args = ["pdftotext", "-f", "1", "-l", "1", "-r", "72", *crop, "-layout", "-", "-"]
    return subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode()


def _ink_lines(
    page: Image.Image, box: tuple[float, float, float, float]
) -> list[tuple[float, float]]:
    """Each run of inked pixel rows in the box (a line of text), as its (left, right) extent in
    inches from the page's left edge."""
    x0, y0, x1, y1 = box
    region = page.crop((round(x0 * DPI), round(y0 * DPI), round(x1 * DPI), round(y1 * DPI)))
    width, height = region.size
    data = region.tobytes()
    lines: list[tuple[float, float]] = []
    extent: list[int] | None = None
    for row in range(height + 1):
        inked = [c for c in range(width) if row < height and data[row * width + c] < 128]
        if inked:
            low, high = min(inked), max(inked)
            extent = [low, high] if extent is None else [min(extent[0], low), max(extent[1], high)]
        elif extent is not None:
            lines.append((x0 + extent[0] / DPI, x0 + extent[1] / DPI))
            extent = None
    return lines


def _need_poppler() -> None:
    if shutil.which("pdftoppm") and shutil.which("pdftotext"):
        return
    if os.environ.get("CI"):  # scripts/test installs poppler-utils; CI must not skip this
        pytest.fail("pdftoppm/pdftotext (poppler-utils) not installed")
    pytest.skip("pdftoppm/pdftotext (poppler-utils) not installed")


@pytest.mark.parametrize("language", list(Language))
def test_page_one_shows_the_address_in_the_window_and_the_body_in_its_frame(
    language: Language,
) -> None:
    """Page 1 rendered as a person (and a mail-room scanner) sees it; the PNG is kept in
    test-artifacts/letters for review (Arabic: joined letters, right-aligned)."""
    _need_poppler()
    notice = sample_notice(NoticeKind.DENIAL, language)
    pdf = render_notice(notice)
    recipient = [notice.recipient_name, *notice.recipient_address]

    # the text: the recipient, and only the recipient, inside the envelope window
    x, top, right, bottom = (v * 72 for v in RECIPIENT_WINDOW_IN)
    crop = [
        "-x",
        f"{x:.0f}",
        "-y",
        f"{top:.0f}",
        "-W",
        f"{right - x:.0f}",
        "-H",
        f"{bottom - top:.0f}",
    ]
    in_window = [line.strip() for line in _pdftotext(pdf, *crop).splitlines() if line.strip()]
    assert in_window == recipient, in_window
    page_text = " ".join(_pdftotext(pdf).replace("\u2068", "").replace("\u2069", "").split())
    assert "ROI-7K3QD-M2X9A" in page_text
    assert "Rochester, MN 55905" in page_text  # the site's return address
    for word in words(language, "denial.title"):
        assert word in text_of(pdf), (language, word)

    # the pixels
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = ARTIFACTS / f"denial_{language.value}"
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(DPI), "-f", "1", "-l", "1", "-singlefile", "-", str(base)],
        input=pdf,
        check=True,
    )
    with Image.open(base.with_suffix(".png")) as png:
        page = png.convert("L")
    assert page.size == (round(8.5 * DPI), round(11 * DPI))  # US Letter
    window = _ink_lines(page, RECIPIENT_WINDOW_IN)
    assert len(window) == len(recipient), window  # name and two address lines, legible rows
    assert all(abs(left - RECIPIENT_WINDOW_IN[0]) < 0.05 for left, _ in window), window
    returned = _ink_lines(page, RETURN_WINDOW_IN)
    assert len(returned) == len(site_profile(Site.MINNESOTA).mailing_address), returned
    body = _ink_lines(page, BODY_IN)
    assert len(body) >= 15, body  # a page of text, not a blank or a stub
    starts_left = sum(abs(left - 1.0) < 0.06 for left, _ in body)
    ends_right = sum(abs(right - 7.5) < 0.06 for _, right in body)
    if language == Language.AR:
        assert ends_right >= 0.75 * len(body) and starts_left < 0.25 * len(body), body
    else:
        assert starts_left >= 0.75 * len(body), body
    assert all(left > 0.95 and right < 7.55 for left, right in body), body  # inside the frame
    for name, box in BLANK_IN.items():
        assert _ink_lines(page, box) == [], f"ink in the {name}"


def test_arabic_text_is_shaped_and_extractable() -> None:
    pdf = render_notice(sample_notice(NoticeKind.ACKNOWLEDGEMENT, Language.AR))
    raw = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert any("\ufe70" <= c <= "\ufeff" for c in raw)  # joined presentation forms drawn
    text = text_of(pdf)
    for word in ("تلقينا", "طلبك", "المتابعة"):
        assert word in text.replace("\u0651", "")


def test_translation_review_list_is_current() -> None:
    from letters.review import OUT, report

    assert OUT.read_text(encoding="utf-8") == report(), "run: python -m letters.review"


@pytest.mark.parametrize("language", list(Language))
def test_authorization_deficiency_encloses_a_blank_form_in_the_same_language(
    language: Language,
) -> None:
    letter_only = sample_notice(
        NoticeKind.DEFICIENCY,
        language,
        deficiencies=[FieldIssue(field="legal_document", code="not_a_court_order", message="-")],
    )
    with_form = sample_notice(NoticeKind.DEFICIENCY, language)
    short = pypdf.PdfReader(io.BytesIO(render_notice(letter_only)))
    pdf = render_notice(with_form)
    long = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(long.pages) >= len(short.pages) + 2
    text = text_of(pdf)
    for key in ("deficiency.enclosed", "form.title", "form.revoke", "form.redisclosure"):
        for word in words(language, key, 2):
            assert word in text, (key, word)


def test_mailing_label_too_long_is_refused() -> None:
    notice = sample_notice(NoticeKind.MAILING_LABEL, recipient_address=["Suite 100"] * 6)
    with pytest.raises(LetterError, match="mailing label"):
        render_notice(notice)


def test_citations_stay_on_one_line() -> None:
    for language in (Language.EN, Language.AR):
        pdf = render_notice(sample_notice(NoticeKind.DENIAL, language))
        assert "CFR 164.524(a)(3)(i)" in text_of(pdf)


def test_rendering_logs_no_phi(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    phi = ("Ana Example", "123 Sample Ave", "1980-05-17", "Rochester, MN 55901")
    for kind in NoticeKind:
        render_notice(sample_notice(kind, Language.ES))
    with pytest.raises(LetterError) as caught:
        render_notice(sample_notice(NoticeKind.ACKNOWLEDGEMENT, recipient_address=["x" * 80]))
    out, err = capfd.readouterr()
    logged = out + err + caplog.text + str(caught.value)
    assert not any(value in logged for value in phi)


def test_a_conditional_line_stays_its_own_paragraph() -> None:
    """How it was sent, then the check to make: two paragraphs, never one run-on line."""
    pdf = render_notice(sample_notice(NoticeKind.PACKING_SLIP, Language.EN))
    lines = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()
    assert any(line.startswith("Please check") for line in lines), lines
