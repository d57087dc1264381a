"""Render a `Notice` (or the blank authorization form) as PDF bytes in its language.

Pipeline: check the notice has what its kind needs → jinja2 template (text markup, every
string from the language's catalog) → layout with shaped, measured text → reportlab canvas
with embedded fonts. Deterministic: the same notice gives the same bytes (invariant canvas).
"""

from __future__ import annotations

import io
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from reportlab.pdfgen.canvas import Canvas

from domain.calendar import business_day_on_or_before
from domain.contacts import TeamContact, notice_team, team_contact
from domain.denial import DENIAL_GROUNDS
from domain.fees import FeeLine
from domain.kinds import adoption
from domain.kinds.amendment import AMENDMENT_GROUNDS, AmendmentDenialBasis
from domain.notices import Notice, NoticeKind
from domain.sites import SiteProfile, site_profile
from domain.types import Language, Site
from letters.catalog import Catalog, catalog_for
from letters.errors import LetterError
from letters.fonts import register_fonts
from letters.formatting import Formats, formats_for
from letters.layout import lay_out
from letters.page import (
    FORM_FRAME,
    LABEL_SIZE,
    LETTER_FRAME,
    Furniture,
    check_label,
    check_window,
    draw_label,
    draw_letter,
    new_canvas,
)
from letters.requirements import check_notice

__all__ = ["LetterError", "render_authorization_form", "render_notice"]

_TEMPLATES = Path(__file__).parent / "templates"
_ZONES = {
    "America/Phoenix": "mountain",
    "America/New_York": "eastern",
    "America/Chicago": "central",
}
_FEE_CODES = frozenset(
    {
        "copies",
        "third_party_flat",
        "third_party_pages",
        "third_party_search",
        "third_party_electronic",
        "fedex",
        "cd",
        "accounting",
    }
)
#: requester types a third-party fee schedule row may be for ("*": any other third party)
_REQUESTER_TYPES = frozenset(
    {"attorney", "insurer", "employer", "provider", "family_or_friend", "other", "*"}
)
_ACCEPTED_BY_NAME = {name: doc.value for doc, name in adoption.ACCEPTED.items()}
_REJECTED_BY_REASON = {
    **{reason: f"adoption.reason.{doc.value}" for doc, reason in adoption.REJECTED.items()},
    "The document must be a complete copy, every page included.": "adoption.reason.incomplete",
}
_DIGITS = re.compile(r"\d+")


def _one_line(value: Any) -> Any:
    """Every interpolated value on one line, so no text can inject layout markup."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _nobreak(value: str) -> str:
    """Keep a citation or reference on one line (no-break spaces)."""
    return value.replace(" ", "\u00a0")


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,  # plain-text markup for the PDF layout, never HTML
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_one_line,
        keep_trailing_newline=False,
    )


def _language(value: object) -> Language:
    try:
        return Language(value)  # type: ignore[arg-type]  # any value; unknown ones raise ValueError
    except ValueError:
        raise LetterError("language is not one of en, es, ar, so, hmn") from None


class _Helpers:
    """Template helpers bound to one language (wording of codes carried by the notice)."""

    def __init__(self, catalog: Catalog, fmt: Formats) -> None:
        self.t = catalog.text
        self.fmt = fmt

    def fee_label(self, line: FeeLine) -> str:
        if line.code not in _FEE_CODES:
            raise LetterError(f"fee line code {line.code} has no wording")
        if line.code == "third_party_pages" and line.quantity and line.unit_cents:
            return self.t(
                "fee.third_party_pages_rate",
                pages=self.fmt.number(line.quantity),
                rate=self.fmt.money(line.unit_cents),
            )
        if line.code == "third_party_pages":
            pages = _DIGITS.search(line.description)
            return self.t(
                "fee.third_party_pages", pages=self.fmt.number(int(pages.group())) if pages else ""
            )
        return self.t(f"fee.{line.code}")

    def requester_type(self, value: str) -> str:
        """The requester type a third-party fee schedule row is for (attorney, insurer...)."""
        if value not in _REQUESTER_TYPES:
            raise LetterError("fee_requester_type is not a requester type")
        return self.t(f"requester_type.{'any' if value == '*' else value}")

    def method(self, value: object) -> str:
        return self.t(f"method.{getattr(value, 'value', value)}")

    def adoption_document(self, name: str) -> str:
        code = _ACCEPTED_BY_NAME.get(name, name)
        if code not in _ACCEPTED_BY_NAME.values():
            raise LetterError("document_name is not an accepted adoption document")
        return self.t(f"adoption.document.{code}")


def _site_lines(
    catalog: Catalog, fmt: Formats, profile: SiteProfile, contact: TeamContact | None = None
) -> tuple[str, tuple[str, ...]]:
    """The site's hours, and the letterhead's contact lines of the team (domain.contacts)."""
    contact = contact or team_contact(None)
    hours = catalog.text(
        "common.hours",
        opens=fmt.time(profile.opens),
        closes=fmt.time(profile.closes),
        zone=catalog.text(f"zone.{_ZONES.get(profile.time_zone, 'central')}"),
    )
    reach: list[str] = []
    if contact.phone and contact.phone_option:
        reach.append(
            catalog.text("team.phone_option", phone=contact.phone, option=contact.phone_option)
        )
    elif contact.phone:
        reach.append(catalog.text("common.phone", phone=contact.phone))
    if contact.fax:
        reach.append(catalog.text("common.fax", fax=contact.fax))
    lines = [" · ".join(reach)] if reach else []
    lines.append(catalog.text("common.email", email=contact.email))
    if contact.site_hours:
        lines.append(hours)
    return hours, tuple(lines)


def _team_words(catalog: Catalog, contact: TeamContact, hours: str) -> dict[str, str]:
    """What a letter says for its team: letterhead name, "questions?" line, signature."""
    if contact.team == team_contact(None).team:
        return {
            "organization": catalog.text("common.organization"),
            "questions": catalog.text("common.questions", phone=contact.phone or "", hours=hours),
            "signature": catalog.text("common.signature"),
        }
    if contact.phone and contact.phone_option:
        questions = catalog.text(
            "team.questions_option",
            phone=contact.phone,
            option=contact.phone_option,
            email=contact.email,
        )
    else:
        questions = catalog.text("team.questions_email", email=contact.email)
    return {
        "organization": catalog.text(f"team.{contact.team}.organization"),
        "questions": questions,
        "signature": catalog.text(f"team.{contact.team}.signature"),
    }


def _contact_of(notice: Notice) -> TeamContact:
    return team_contact(notice_team(notice.kind, notice.team))


def _context(
    notice: Notice, catalog: Catalog, fmt: Formats, profile: SiteProfile
) -> dict[str, Any]:
    helpers = _Helpers(catalog, fmt)
    contact = _contact_of(notice)
    hours, _ = _site_lines(catalog, fmt, profile, contact)
    context: dict[str, Any] = {
        "n": notice,
        "t": catalog.text,
        "iso": catalog.isolate,
        "nobreak": _nobreak,
        "fmt": fmt,
        "site": profile,
        "hours": hours,
        "address": contact.address_line,
        "contact": contact,
        "phone": contact.phone or profile.roi_phone,
        **_team_words(catalog, contact, hours),
        "fee_label": helpers.fee_label,
        "requester_type": helpers.requester_type,
        "method": helpers.method,
        "adoption_document": helpers.adoption_document,
        "released_to": notice.recipient_name,
    }
    if notice.denial_basis is not None:
        context["ground"] = DENIAL_GROUNDS[notice.denial_basis]
    if notice.amendment_denial_basis:
        context["amendment_ground"] = AMENDMENT_GROUNDS[
            AmendmentDenialBasis(notice.amendment_denial_basis)
        ]
    context["rejection_key"] = _REJECTED_BY_REASON.get(notice.rejection_reason)
    # the date promised to the requester falls on a day the site's office is open
    context["expected_by"] = (
        business_day_on_or_before(notice.site, notice.expected_date)
        if notice.expected_date
        else None
    )
    context["entries"] = [
        {**entry, "date": fmt.date(date.fromisoformat(entry["date"]))}
        for entry in notice.accounting_entries
    ]
    context["payments"] = [
        catalog.text(
            "receipt.paid",
            amount=fmt.money(p.amount_cents),
            date=fmt.date(p.paid_on),
            reference=p.reference,
        )
        for p in notice.payments
    ]
    return context


def _markup(template: str, context: dict[str, Any]) -> str:
    try:
        return _environment().get_template(template).render(context)
    except TemplateNotFound:
        raise LetterError(f"no template {template}") from None


def _furniture(
    title: str,
    notice_like: Notice | None,
    catalog: Catalog,
    fmt: Formats,
    profile: SiteProfile,
    rtl: bool,
) -> Furniture:
    team = _contact_of(notice_like) if notice_like is not None else team_contact(None)
    hours, contact = _site_lines(catalog, fmt, profile, team)
    organization = _team_words(catalog, team, hours)["organization"]
    date_block: tuple[str, ...] = ()
    recipient: tuple[str, ...] = ()
    tracking = ""
    if notice_like is not None:
        tracking = notice_like.tracking_number
        date_block = (
            catalog.text("common.date", date=fmt.date(notice_like.issued_on)),
            catalog.text("common.tracking", tracking=tracking),
        )
        if notice_like.patient_name and notice_like.kind != NoticeKind.AMENDMENT_NOTIFICATION:
            date_block += (catalog.text("common.patient", name=notice_like.patient_name),)
        recipient = tuple(
            line for line in (notice_like.recipient_name, *notice_like.recipient_address) if line
        )
    return Furniture(
        title=title,
        site=profile,
        return_address=team.mailing_address,
        organization=organization,
        contact_lines=contact,
        date_block=date_block,
        recipient=recipient,
        page_label=catalog.text("common.page", page="{page}", pages="{pages}"),
        continued=catalog.text(
            "common.continued", organization=organization, tracking=tracking, title=title
        ),
        rtl=rtl,
    )


def _bcp47(language: Language) -> str:
    return {Language.EN: "en-US", Language.ES: "es-US"}.get(language, language.value)


def render_notice(notice: Notice) -> bytes:
    """The notice as a PDF in the requester's language; LetterError if it cannot be right."""
    language = _language(notice.language)
    register_fonts()
    catalog = catalog_for(language)
    fmt = formats_for(language)
    profile = site_profile(notice.site)
    kind = NoticeKind(notice.kind)
    if kind == NoticeKind.AUTHORIZATION_FORM:
        return render_authorization_form(language, notice.site)
    check_notice(notice)
    rtl = language == Language.AR
    recipient = [line for line in (notice.recipient_name, *notice.recipient_address) if line]
    title = catalog.text(f"{kind.value}.title")
    buffer = io.BytesIO()
    meta_title = f"{title} · {notice.tracking_number}" if notice.tracking_number else title
    author = catalog.text("common.organization")
    if kind == NoticeKind.MAILING_LABEL:
        check_label(recipient)
        canvas = new_canvas(buffer, meta_title, kind.value, author, _bcp47(language), LABEL_SIZE)
        footer = [catalog.text("mailing_label.reference", tracking=notice.tracking_number)]
        if notice.delivery_method is not None:
            footer.append(
                catalog.text(
                    "mailing_label.service",
                    method=_Helpers(catalog, fmt).method(notice.delivery_method),
                )
            )
        draw_label(canvas, list(profile.mailing_address), recipient, footer, rtl)
        canvas.save()
        return buffer.getvalue()
    check_window(recipient)
    context = _context(notice, catalog, fmt, profile)
    context["title"] = title
    enclose_form = kind == NoticeKind.DEFICIENCY and any(
        issue.field.startswith("authorization") for issue in notice.deficiencies
    )
    context["enclose_form"] = enclose_form
    markup = _markup(f"{kind.value}.j2", context)
    pages = lay_out(markup, LETTER_FRAME, rtl)
    canvas = new_canvas(buffer, meta_title, kind.value, author, _bcp47(language))
    draw_letter(canvas, pages, _furniture(title, notice, catalog, fmt, profile, rtl))
    if enclose_form:  # the blank form, in the same language, as an enclosure
        _draw_form(canvas, language, catalog, fmt, profile)
    canvas.save()
    return buffer.getvalue()


def _draw_form(
    canvas: Canvas, language: Language, catalog: Catalog, fmt: Formats, profile: SiteProfile
) -> None:
    rtl = language == Language.AR
    context = {
        "t": catalog.text,
        "fmt": fmt,
        "site": profile,
        "address": ", ".join(profile.mailing_address),
    }
    pages = lay_out(_markup("authorization_form.j2", context), FORM_FRAME, rtl)
    title = catalog.text("form.title")
    draw_letter(canvas, pages, _furniture(title, None, catalog, fmt, profile, rtl), form=True)


def render_authorization_form(language: Language | str, site: Site | str) -> bytes:
    """The blank 164.508 third-party authorization form, in the language, for the site."""
    lang = _language(language)
    try:
        profile = site_profile(Site(site))
    except ValueError:
        raise LetterError("site is not a known site") from None
    register_fonts()
    catalog = catalog_for(lang)
    fmt = formats_for(lang)
    buffer = io.BytesIO()
    title = catalog.text("form.title")
    canvas = new_canvas(
        buffer, title, "authorization_form", catalog.text("common.organization"), _bcp47(lang)
    )
    _draw_form(canvas, lang, catalog, fmt, profile)
    canvas.save()
    return buffer.getvalue()
