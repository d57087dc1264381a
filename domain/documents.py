"""Reading a scanned request: the fields and the 164.508 elements found in its OCR text.

Pure rules over the text Tesseract read (no I/O): keyword and pattern rules for the kind of
request, the patient's name, date of birth and record number, the requester, the dates of
service, the delivery method and, on an authorization, each element of 45 CFR 164.508(c) with
the span of text it was read from, so the specialist sees *why* a field was filled in. The
labels are the project's own form's (letters/locale, English and Spanish; an Arabic heading
is recognised for the language) and the usual words of a written request.

Everything found is a suggestion: the specialist confirms or corrects every field before the
request is submitted (services.inbound). Nothing here is ever logged: it is PHI.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from domain.types import RECORD_COPY_KINDS, DeliveryMethod, Language, RequestKind

# ---- the shape of a reading -------------------------------------------------------------------


class Reading(BaseModel):
    """One value read off the document, with where it was read: `text` is the span of the OCR
    text (offsets `start`..`end`) the value came from, shown beside the field."""

    value: str
    start: int
    end: int
    text: str


class ElementFinding(BaseModel):
    """One 164.508 element: found on the document or not, and the text that shows it."""

    element: str
    present: bool
    reading: Reading | None = None


class Extraction(BaseModel):
    """Everything read off one document."""

    language: Language = Language.EN
    kind: RequestKind | None = None
    fields: dict[str, Reading] = {}
    elements: list[ElementFinding] = []

    def value(self, name: str) -> str | None:
        """The value read for a field, if any."""
        reading = self.fields.get(name)
        return reading.value if reading else None


#: The elements of a valid authorization (164.508(c)(1), (2)), in the form's order, as the
#: checklist names them; the key is the domain.authorization field each one fills.
ELEMENTS: tuple[tuple[str, str], ...] = (
    ("information_description", "Description of the information (c)(1)(i)"),
    ("disclosing_party", "Who may disclose (c)(1)(ii)"),
    ("recipient", "Who receives it (c)(1)(iii)"),
    ("purpose", "Purpose (c)(1)(iv)"),
    ("expiration", "Expiration date or event (c)(1)(v)"),
    ("signature", "Signature (c)(1)(vi)"),
    ("signature_date", "Date signed (c)(1)(vi)"),
    ("statement_right_to_revoke", "Right to revoke statement (c)(2)(i)"),
    ("statement_conditioning", "No conditioning statement (c)(2)(ii)"),
    ("statement_redisclosure", "Redisclosure statement (c)(2)(iii)"),
)
ELEMENT_LABELS: dict[str, str] = dict(ELEMENTS)

#: The fields the reader fills and the benchmark scores, with their labels on the split screen.
FIELD_LABELS: dict[str, str] = {
    "kind": "Kind of request",
    "patient.first_name": "Patient first name",
    "patient.last_name": "Patient last name",
    "patient.date_of_birth": "Date of birth",
    "patient.mrn": "Medical record number",
    "requester.name": "Requester",
    "requester.contact": "Requester's address or email",
    "delivery_method": "Delivery",
    "records.description": "Records wanted",
    "records.date_from": "Dates of service from",
    "records.date_to": "Dates of service to",
    "authorization.purpose": "Purpose",
    "authorization.expiration": "Expiration",
    "authorization.signature_date": "Date signed",
    "authorization.representative": "Representative",
}

# ---- folding: match without case or accents, keep the offsets ----------------------------------

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def fold(text: str) -> str:
    """Lower case without accents, one character for one (so offsets into the folded text are
    offsets into the original)."""
    out = []
    for char in text.translate(_QUOTES):
        base = unicodedata.normalize("NFKD", char)[:1] or char
        out.append(base.lower() if len(base.lower()) == 1 else char)
    return "".join(out)


# ---- labels of the project's form (letters/locale/{en,es}/.../letters.po, form.*) ------------

_S = r"[ \t]+"  # OCR keeps words on a line apart by blanks
_LABELS: dict[str, tuple[str, ...]] = {
    "patient_name": (r"patient.?s full name", r"nombre completo del paciente"),
    "patient_dob": (r"date of birth", r"fecha de nacimiento"),
    "patient_mrn": (
        r"medical record number(?:[ \t]*\(?if known\)?)?",
        r"numero de expediente medico(?:[ \t]*\(?si lo sabe\)?)?",
    ),
    "patient_contact": (r"address and phone", r"direccion y telefono"),
    "discloser": (r"mayo clinic,[^\n]{0,40}\((?:release of|entrega de) informa\w*\)",),
    "recipient_name": (
        r"name of person or organi[sz]ation",
        r"nombre de la persona u organizacion",
    ),
    "recipient_address": (r"address, fax or e-?mail", r"direccion, fax o correo electronico"),
    "info_all": (
        r"all records for the dates of service below",
        r"todos los expedientes de las fechas de atencion indicadas abajo",
    ),
    "info_types": (
        r"only these records \(for example[^)]*\):?",
        r"solo estos expedientes \(por ejemplo[^)]*\):?",
    ),
    "info_dates": (
        r"dates of service,?\W{0,3}from\W{0,4}to",
        r"fechas de atencion,?\W{0,3}desde\W{0,4}hasta",
    ),
    "purpose_self": (r"at the request of the individual", r"a peticion de la persona"),
    "purpose_other": (r"other purpose:?", r"otro proposito:?"),
    "expiry": (r"expiration date or event", r"fecha o evento de vencimiento"),
    "signature": (
        r"signature of patient or representative",
        r"firma del paciente o del representante",
    ),
    "signature_date": (r"date signed", r"fecha de la firma"),
    "representative_name": (r"representative.?s name", r"nombre del representante"),
    "representative_authority": (r"description of authority", r"descripcion de la autoridad"),
}

#: The statements 164.508(c)(2) requires, as the project's form words them (and close variants).
_STATEMENTS: dict[str, tuple[str, ...]] = {
    "statement_right_to_revoke": (
        r"(?:may|can|right to) revoke th(?:is|e) authori[sz]ation",
        r"puede revocar esta autorizacion",
    ),
    "statement_conditioning": (
        r"(?:will|may) not condition (?:your )?treatment",
        r"(?:treatment|payment)[^.\n]{0,80}(?:not|cannot) be conditioned",
        r"no condicionara su tratamiento",
    ),
    "statement_redisclosure": (
        r"(?:may be|be) (?:shared again|re-?disclosed)[^.]{0,40}recipient",
        r"re-?disclos\w+ by the recipient",
        r"puede ser compartida de nuevo",
    ),
}

_TITLES: tuple[tuple[RequestKind, tuple[str, ...]], ...] = (
    (
        RequestKind.REVOCATION,
        (r"revocation of (?:an? |my |the )?authori[sz]ation", r"i (?:hereby )?revoke (?:my|the)"),
    ),
    (
        RequestKind.AMENDMENT,
        (r"request (?:for|to) (?:an )?amend", r"solicitud de (?:enmienda|correccion)"),
    ),
    (RequestKind.SUBPOENA, (r"\bsubpoena\b", r"\bcitacion\b")),
    (
        RequestKind.COURT_ORDER,
        (r"\bcourt order\b", r"it is (?:hereby )?ordered", r"orden judicial"),
    ),
    (RequestKind.ACCOUNTING, (r"accounting of disclosures",)),
    (RequestKind.SSA_DISABILITY, (r"\bssa-827\b", r"disability determination")),
    (
        RequestKind.THIRD_PARTY,
        (
            r"authori[sz]ation to (?:release|disclose)[^\n]{0,60}third party",
            r"autorizacion para divulgar[^\n]{0,60}tercero",
        ),
    ),
    (
        RequestKind.CONTINUITY_OF_CARE,
        (r"continuity of care", r"for (?:ongoing|continuing) (?:care|treatment)"),
    ),
    (
        RequestKind.IMAGING,
        (
            r"\b(?:images|imaging)\b[^\n]{0,60}\b(?:cd|disc|cloud link)\b",
            r"copy of my (?:images|imaging)",
        ),
    ),
    (
        RequestKind.ACCESS_OWN,
        (r"cop(?:y|ies) of my (?:own )?(?:medical )?records", r"copia de mi expediente"),
    ),
)

_LANGUAGE_HINTS: tuple[tuple[Language, str], ...] = (
    (Language.ES, r"\b(?:autorizacion|paciente|fecha de nacimiento|firma)\b"),
    (Language.AR, r"[\u0600-\u06ff]{3,}"),
)

_DATE = re.compile(r"(?<!\d)(\d{1,2})[ ]?[/.-][ ]?(\d{1,2})[ ]?[/.-][ ]?(\d{4}|\d{2})(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+\s?[@©®]\s?[\w-]+(?:\.[\w-]+)+")
_DOMAINISH = re.compile(r"\b[\w.+-]{2,}[^\s]?[\w-]+\.(?:com|org|net|edu|gov|us|example)\b")
_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
_ADDRESS = re.compile(
    r"^\s*(?P<line1>\d+[^,\n]*?),\s*(?P<city>[A-Za-z .'-]+?),?\s+(?P<state>[A-Za-z]{2})\s+"
    r"(?P<zip>\d{5}(?:-\d{4})?)\b"
)
#: Marks Tesseract reads for an empty check box; anything else before the label is a tick.
_EMPTY_BOX = {"o", "0", "q", "c", "(", "()", "[]", "[ ]", "d", "oo", "a", "©", "\u2610", "\u25a1"}
_ORGANIZATION_WORDS = re.compile(
    r"\b(?:llp|llc|inc|co|corp|company|group|clinic|clinica|center|centre|hospital|insurance|"
    r"services|law|attorneys?|firm|bufete|seguros|legal|medical|health|associates|agency)\b"
)


def _loose(pattern: str) -> str:
    """A label as OCR may space it: each blank between words (outside a character class) may
    be missing, doubled or read as a speck ("fullname", "fax oremail", "date.or event")."""
    out, depth = [], 0
    for char in pattern:
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        out.append(r"[ \t.,'_-]{0,3}" if char == " " and depth == 0 else char)
    return "".join(out)


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(_loose(pattern))


def _find(pattern: str, folded: str, start: int = 0) -> re.Match[str] | None:
    return _compiled(pattern).search(folded, start)


def _first(patterns: Iterable[str], folded: str) -> re.Match[str] | None:
    found = [m for p in patterns if (m := _find(p, folded)) is not None]
    return min(found, key=lambda m: m.start()) if found else None


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _line_start(text: str, at: int) -> int:
    return text.rfind("\n", 0, at) + 1


_JUNK = " \t:;|_—–-.,"


def _after(text: str, folded: str, key: str) -> tuple[Reading | None, re.Match[str] | None]:
    """The value written after a label, to the end of its line (None when left blank)."""
    label = _first(_LABELS[key], folded)
    if label is None:
        return None, None
    start, end = label.end(), _line_end(text, label.end())
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip(_JUNK))
    value = raw.strip(_JUNK).strip()
    # the labels read are the English and Spanish form's: a value with no Latin letter or digit
    # is Tesseract's Arabic model reading the blank line's rule ("\u200f لا"), not a value
    if not re.search(r"[A-Za-z0-9\u00c0-\u024f]", value):
        return None, label
    return Reading(
        value=value,
        start=start + lead,
        end=start + lead + len(value),
        text=text[label.start() : end],
    ), label


def _reading(
    text: str, start: int, end: int, value: str, context: tuple[int, int] | None = None
) -> Reading:
    lo, hi = context or (start, end)
    return Reading(value=value, start=start, end=end, text=text[lo:hi])


def parse_date(raw: str, language: Language) -> date | None:
    """A date as written on a form: ISO, or numbers with slashes, month first in English and day
    first in Spanish (a first number over 12 can only be the day)."""
    iso = _ISO.search(raw)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        found = _DATE.search(raw)
        if not found:
            return None
        a, b, year = int(found[1]), int(found[2]), int(found[3])
        if year < 100:
            year += 2000 if year < 50 else 1900
        day_first = language != Language.EN or a > 12
        month, day = (b, a) if day_first else (a, b)
        return date(year, month, day)
    except ValueError:
        return None


def _dates(raw: str, language: Language) -> list[tuple[date, int, int]]:
    found = []
    for match in list(_ISO.finditer(raw)) + list(_DATE.finditer(raw)):
        parsed = parse_date(match.group(0), language)
        if parsed is not None:
            found.append((parsed, match.start(), match.end()))
    return sorted(found, key=lambda d: d[1])


def _checked(text: str, folded: str, key: str) -> tuple[bool, re.Match[str] | None]:
    """A check box before a label: ticked unless Tesseract read an empty box there."""
    label = _first(_LABELS[key], folded)
    if label is None:
        return False, None
    before = folded[_line_start(folded, label.start()) : label.start()].strip()
    return before not in _EMPTY_BOX, label


def detect_language(text: str) -> Language:
    """The form's language from its words (English unless Spanish or Arabic words dominate)."""
    folded = fold(text)
    for language, pattern in _LANGUAGE_HINTS:
        if len(re.findall(pattern, folded)) >= 3:
            return language
    return Language.EN


def detect_kind(text: str) -> tuple[RequestKind | None, Reading | None]:
    """The kind of request, from the document's title or a written request's words."""
    folded = fold(text)
    for kind, patterns in _TITLES:
        match = _first(patterns, folded)
        if match is not None:
            lo, hi = _line_start(text, match.start()), _line_end(text, match.end())
            return kind, _reading(text, match.start(), match.end(), kind.value, (lo, hi))
    return None, None


def delivery_from(contact: str) -> DeliveryMethod | None:
    """How the records go, from where they go: an email address is a secure link, a postal
    address is the mail."""
    lowered = contact.lower()
    if "@" in contact or _EMAIL.search(contact) or _DOMAINISH.search(lowered):
        return DeliveryMethod.EMAIL_LINK
    if _ZIP.search(contact) or re.search(r"^\s*\W?\d+\s+\w+", contact):
        return DeliveryMethod.US_MAIL
    if re.search(r"[a-z]\s?[.,]\s?(?:com|org|net|edu|gov|us|example)\b", lowered):
        return DeliveryMethod.EMAIL_LINK  # an address whose @ and dot OCR lost
    return None


def _email_of(contact: str) -> str | None:
    found = _EMAIL.search(contact)
    if found:
        return re.sub(r"\s?[©®]\s?|\s@\s?|@\s", "@", found.group(0))
    return None


def _name_parts(value: str) -> list[str]:
    cleaned = re.sub(r"[^A-Za-zÀ-ÿ' -]", " ", value)
    return [p for p in cleaned.split() if len(p) > 1 or p.isalpha()]


def extract(text: str) -> Extraction:
    """Every field and 164.508 element found in a document's OCR text."""
    folded = fold(text)
    language = detect_language(text)
    kind, kind_reading = detect_kind(text)
    fields: dict[str, Reading] = {}
    if kind_reading is not None:
        fields["kind"] = kind_reading

    name, _ = _after(text, folded, "patient_name")
    if name is not None:
        parts = _name_parts(name.value)
        if parts:
            fields["patient.first_name"] = name.model_copy(update={"value": parts[0]})
        if len(parts) > 1:
            fields["patient.last_name"] = name.model_copy(update={"value": parts[-1]})
        if len(parts) > 2:
            fields["patient.middle_name"] = name.model_copy(update={"value": " ".join(parts[1:-1])})

    dob, _ = _after(text, folded, "patient_dob")
    if dob is not None and (born := parse_date(dob.value, language)) is not None:
        fields["patient.date_of_birth"] = dob.model_copy(update={"value": born.isoformat()})

    mrn, _ = _after(text, folded, "patient_mrn")
    if mrn is not None:
        tokens = re.findall(r"[A-Za-z0-9-]*\d[A-Za-z0-9-]*", mrn.value)
        if tokens:  # the longest run with a digit: OCR specks beside it are not the number
            best = max(tokens, key=len).strip("-")
            fields["patient.mrn"] = mrn.model_copy(update={"value": best[:20].upper()})

    recipient, _ = _after(text, folded, "recipient_name")
    if recipient is not None:
        fields["requester.name"] = recipient
    contact, _ = _after(text, folded, "recipient_address")
    if contact is not None:
        fields["requester.contact"] = contact
        method = delivery_from(contact.value)
        if method is not None:
            fields["delivery_method"] = contact.model_copy(update={"value": method.value})

    info_all, all_label = _checked(text, folded, "info_all")
    _info_types_checked, types_label = _checked(text, folded, "info_types")
    dates_label = _first(_LABELS["info_dates"], folded)
    described: Reading | None = None
    if types_label is not None:
        stop = (
            dates_label.start()
            if dates_label and dates_label.start() > types_label.end()
            else _line_end(text, _line_end(text, types_label.end()) + 1)
        )
        raw = text[types_label.end() : stop]
        value = " ".join(raw.split()).strip(_JUNK)
        if value and sum(c.isalpha() for c in value) >= 3:
            lead = types_label.end() + (len(raw) - len(raw.lstrip()))
            described = _reading(
                text, lead, lead + len(raw.strip()), value, (types_label.start(), stop)
            )
    if described is None and info_all and all_label is not None:
        lo, hi = _line_start(text, all_label.start()), _line_end(text, all_label.end())
        described = _reading(
            text,
            all_label.start(),
            all_label.end(),
            text[all_label.start() : all_label.end()],
            (lo, hi),
        )
    if described is not None:
        fields["records.description"] = described

    service, _ = _after(text, folded, "info_dates")
    if service is not None:
        found = _dates(service.value, language)
        if found:
            fields["records.date_from"] = service.model_copy(
                update={"value": found[0][0].isoformat()}
            )
        if len(found) > 1:
            fields["records.date_to"] = service.model_copy(
                update={"value": found[1][0].isoformat()}
            )

    purpose_self, self_label = _checked(text, folded, "purpose_self")
    other, _other_label = _after(text, folded, "purpose_other")
    purpose: Reading | None = None
    if other is not None:
        purpose = other.model_copy(update={"value": other.value.lower()})
    elif purpose_self and self_label is not None:
        lo, hi = _line_start(text, self_label.start()), _line_end(text, self_label.end())
        purpose = _reading(
            text, self_label.start(), self_label.end(), "at the request of the individual", (lo, hi)
        )
    if purpose is not None:
        fields["authorization.purpose"] = purpose

    expiry, _ = _after(text, folded, "expiry")
    if expiry is not None:
        ends = parse_date(expiry.value, language)
        value = ends.isoformat() if ends else " ".join(expiry.value.split()).lower()
        fields["authorization.expiration"] = expiry.model_copy(update={"value": value})

    signature, _ = _after(text, folded, "signature")
    signed_on, _ = _after(text, folded, "signature_date")
    if signed_on is not None and (on := parse_date(signed_on.value, language)) is not None:
        fields["authorization.signature_date"] = signed_on.model_copy(
            update={"value": on.isoformat()}
        )
    representative, _ = _after(text, folded, "representative_name")
    authority, _ = _after(text, folded, "representative_authority")
    if representative is not None:
        fields["authorization.representative"] = representative
    if authority is not None:
        fields["authorization.representative_authority"] = authority

    discloser = _first(_LABELS["discloser"], folded)
    disclosing: Reading | None = None
    if discloser is not None:
        disclosing = _reading(
            text,
            discloser.start(),
            discloser.end(),
            text[discloser.start() : discloser.end()],
            (discloser.start(), _line_end(text, discloser.end())),
        )
    elements = {
        "information_description": described,
        "disclosing_party": disclosing,
        "recipient": recipient,
        "purpose": purpose,
        "expiration": fields.get("authorization.expiration"),
        "signature": signature
        if signature is not None and sum(c.isalpha() for c in signature.value) >= 3
        else None,
        "signature_date": fields.get("authorization.signature_date"),
    }
    for key, patterns in _STATEMENTS.items():
        match = _first(patterns, folded)
        elements[key] = (
            None
            if match is None
            else _reading(
                text,
                match.start(),
                match.end(),
                "yes",
                (_line_start(text, match.start()), _line_end(text, match.end())),
            )
        )
    findings = [
        ElementFinding(element=key, present=elements[key] is not None, reading=elements[key])
        for key, _ in ELEMENTS
    ]
    return Extraction(language=language, kind=kind, fields=fields, elements=findings)


# ---- from a reading to the form the specialist confirms ----------------------------------------

_RELATIONSHIP_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(?:law|attorneys?|llp|legal|bufete|firm)\b", "attorney"),
    (r"\b(?:insurance|seguros|insurer|assurance)\b", "insurer"),
    (r"\b(?:clinic|clinica|hospital|medical|health|physicians?|care)\b", "provider"),
    (r"\b(?:employer|inc|corp|company)\b", "employer"),
)
_SIGNER_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(?:parent|mother|father|padre|madre)\b", "parent_of_minor"),
    (r"\b(?:guardian|tutor)\b", "legal_guardian"),
    (r"\b(?:health care agent|agente|power of attorney)\b", "health_care_agent"),
    (r"\b(?:executor|albacea)\b", "executor"),
    (r"\badministrator\b", "administrator"),
)


def prefill(extraction: Extraction) -> dict[str, str]:
    """The split screen's form, filled from the reading (flat field names, as posted back)."""
    form: dict[str, str] = {}
    get = extraction.value
    form["kind"] = extraction.kind.value if extraction.kind in RECORD_COPY_KINDS else ""
    form["language"] = extraction.language.value
    for name in ("first_name", "middle_name", "last_name", "date_of_birth", "mrn"):
        form[f"patient.{name}"] = get(f"patient.{name}") or ""
    requester = get("requester.name") or ""
    folded = fold(requester)
    if _ORGANIZATION_WORDS.search(folded) or not requester:
        form["requester.organization"] = requester
    else:
        parts = _name_parts(requester)
        form["requester.first_name"] = " ".join(parts[:-1])
        form["requester.last_name"] = parts[-1] if parts else ""
    relationship = "other"
    for pattern, value in _RELATIONSHIP_WORDS:
        if re.search(pattern, folded):
            relationship = value
            break
    if extraction.kind in (RequestKind.ACCESS_OWN, RequestKind.IMAGING):
        relationship = "self"
    form["requester.relationship"] = relationship
    contact = get("requester.contact") or ""
    email = _email_of(contact)
    if email:
        form["requester.email"] = email
    elif (address := _ADDRESS.search(contact)) is not None:
        form["requester.line1"] = address["line1"].strip()
        form["requester.city"] = address["city"].strip()
        form["requester.state"] = address["state"].upper()
        form["requester.postal_code"] = address["zip"]
    form["delivery_method"] = get("delivery_method") or ""
    form["records.description"] = get("records.description") or ""
    form["records.date_from"] = get("records.date_from") or ""
    form["records.date_to"] = get("records.date_to") or ""
    if extraction.kind == RequestKind.THIRD_PARTY or any(
        f.present for f in extraction.elements if f.element.startswith("statement_")
    ):
        found = {f.element: f for f in extraction.elements}
        form["authorization.information_description"] = form["records.description"]
        discloser = found["disclosing_party"].reading
        form["authorization.disclosing_party"] = discloser.value if discloser else ""
        form["authorization.recipient"] = requester
        form["authorization.purpose"] = get("authorization.purpose") or ""
        expiration = get("authorization.expiration") or ""
        is_date = bool(_ISO.fullmatch(expiration))
        form["authorization.expiration_date"] = expiration if is_date else ""
        form["authorization.expiration_event"] = "" if is_date else expiration
        form["authorization.signed"] = "on" if found["signature"].present else ""
        form["authorization.signature_date"] = get("authorization.signature_date") or ""
        for key in (
            "statement_right_to_revoke",
            "statement_conditioning",
            "statement_redisclosure",
        ):
            form[f"authorization.{key}"] = "on" if found[key].present else ""
        authority = get("authorization.representative_authority") or ""
        form["authorization.representative_authority"] = authority
        role = "patient"
        if get("authorization.representative") or authority:
            role = "other_representative"
            for pattern, value in _SIGNER_WORDS:
                if re.search(pattern, fold(authority)):
                    role = value
                    break
        form["authorization.signer_role"] = role
    return form


def _text(form: dict[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _flag(form: dict[str, str], name: str) -> bool:
    return (form.get(name) or "").strip() in ("on", "true", "1", "yes")


def submission_from_form(
    form: dict[str, str], *, site: str, channel: str, received_at: str
) -> dict[str, Any]:
    """The intake submission (the JSON every channel submits) from the confirmed form. Blank
    fields are left out so intake names each one that is still missing."""
    patient = {
        k: v
        for k in ("first_name", "middle_name", "last_name", "date_of_birth", "mrn")
        if (v := _text(form, f"patient.{k}")) is not None
    }
    contact: dict[str, Any] = {}
    if email := _text(form, "requester.email"):
        contact["email"] = email
    if phone := _text(form, "requester.phone"):
        contact["phone"] = phone
    address = {
        key: value
        for key, name in (
            ("line1", "requester.line1"),
            ("city", "requester.city"),
            ("state", "requester.state"),
            ("postal_code", "requester.postal_code"),
        )
        if (value := _text(form, name)) is not None
    }
    if address:
        contact["address"] = address
    requester: dict[str, Any] = {
        k: v
        for k in ("first_name", "last_name", "organization", "relationship")
        if (v := _text(form, f"requester.{k}")) is not None
    }
    requester["contact"] = contact
    records: dict[str, Any] = {}
    for key in ("description", "date_from", "date_to"):
        if (value := _text(form, f"records.{key}")) is not None:
            records[key] = value
    data: dict[str, Any] = {
        "kind": _text(form, "kind"),
        "site": site,
        "channel": channel,
        "received_at": received_at,
        "language": _text(form, "language") or "en",
        "patient": patient,
        "requester": requester,
        "records": records,
        "delivery_method": _text(form, "delivery_method"),
    }
    if any(k.startswith("authorization.") and _text(form, k) for k in form) and data[
        "kind"
    ] not in (
        RequestKind.ACCESS_OWN.value,
        RequestKind.IMAGING.value,
    ):
        auth: dict[str, Any] = {"form_language": data["language"]}
        for key in (
            "information_description",
            "disclosing_party",
            "recipient",
            "purpose",
            "expiration_date",
            "expiration_event",
            "signature_date",
            "signer_role",
            "representative_authority",
        ):
            if (value := _text(form, f"authorization.{key}")) is not None:
                auth[key] = value
        for key in (
            "signed",
            "statement_right_to_revoke",
            "statement_conditioning",
            "statement_redisclosure",
        ):
            auth[key] = _flag(form, f"authorization.{key}")
        docs = _text(form, "authorization.authority_documents")
        if docs:
            auth["authority_documents"] = [d.strip() for d in docs.splitlines() if d.strip()]
        data["authorization"] = auth
    return {k: v for k, v in data.items() if v is not None}
