"""The portal's forms as the domain sees them: typed values -> a submission payload for
services/intake.py, and each domain FieldIssue -> the form field it belongs to and a sentence
in the patient's language (never a validator's raw text, never the typed value).

Strings here are marked with `N_` for extraction (`pybabel extract`, see portal/babel.cfg) and
translated when a page is rendered.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import FieldIssue
from domain.fees import DEFAULT_FEE_SCHEDULE, quote_fee
from domain.types import DeliveryMethod, Language, RequestKind, Site


def N_(message: str) -> str:
    """Marks a string for translation; it is translated where it is shown."""
    return message


#: Every field of the record forms, by its form name: its label (a msgid).
LABELS: dict[str, str] = {
    "site": N_("Hospital location"),
    "relationship": N_("Who is asking"),
    "patient_first_name": N_("Patient's first name"),
    "patient_middle_name": N_("Patient's middle name"),
    "patient_last_name": N_("Patient's last name"),
    "patient_dob": N_("Patient's date of birth"),
    "patient_mrn": N_("Medical record number"),
    "requester_first_name": N_("Your first name"),
    "requester_last_name": N_("Your last name"),
    "email": N_("Email address"),
    "phone": N_("Phone number"),
    "address_line1": N_("Street address"),
    "address_line2": N_("Apartment, suite or unit"),
    "address_city": N_("City"),
    "address_state": N_("State"),
    "address_postal_code": N_("ZIP code"),
    "date_from": N_("From"),
    "date_to": N_("To"),
    "records_description": N_("Which records"),
    "delivery": N_("How to receive them"),
    "format": N_("Format"),
    "consent": N_("Confirmation"),
    "form": N_("This form"),
    # the third-party authorization (164.508)
    "signer": N_("Who signs this authorization"),
    "representative_authority": N_("Your authority to act for the patient"),
    "authority_document": N_("The document that proves your authority"),
    "recipient_name": N_("Who receives the information"),
    "recipient_email": N_("Their email address"),
    "recipient_address_line1": N_("Their street address"),
    "recipient_address_city": N_("Their city"),
    "recipient_address_state": N_("Their state"),
    "recipient_address_postal_code": N_("Their ZIP code"),
    "purpose": N_("Why it is shared"),
    "expiration_date": N_("This authorization ends on"),
    "expiration_event": N_("Or it ends when"),
    "ack_revoke": N_("Your right to revoke"),
    "ack_conditioning": N_("Your care does not depend on signing"),
    "ack_redisclosure": N_("Sharing by the recipient"),
    "signer_email": N_("Your email address"),
    "esign_consent": N_("Agreement to sign electronically"),
    "signature_name": N_("Your full name, typed"),
    "signature_png": N_("Your drawn signature"),
    "code": N_("The code we emailed you"),
    # the other kinds (portal/cases.py)
    "record_description": N_("Which record is wrong"),
    "date_of_service": N_("Date of the visit"),
    "requested_change": N_("What it should say"),
    "reason": N_("Why it should change"),
    "authorizations": N_("Tracking numbers of the authorizations"),
    "basis": N_("Why you act for the patient"),
    "document_kind": N_("Which document you send"),
    "document_ends_on": N_("The document ends on"),
    "document_file": N_("The document"),
    "question": N_("Your question"),
    "patient_dod": N_("Date of death"),
    "reporter_relationship": N_("Your relationship to the patient"),
    "document_type": N_("Which court document"),
    # friends and family (portal/friends_family.py) and the photo ID on the records forms
    **{f"person_{n}_name": N_("Their full name") for n in (1, 2, 3)},
    **{f"person_{n}_relationship": N_("Their relationship to the patient") for n in (1, 2, 3)},
    **{f"person_{n}_phone": N_("Their phone number") for n in (1, 2, 3)},
    "scopes": N_("What they may be told"),
    "details": N_("Anything else they may, or may not, be told"),
    "until": N_("Until when"),
    "ends_on": N_("End date"),
    "photo_id_file": N_("A photo of your ID"),
}

#: Domain field paths -> form fields (the longest matching prefix wins).
_FIELD_OF: dict[str, str] = {
    "site": "site",
    "patient.first_name": "patient_first_name",
    "patient.middle_name": "patient_middle_name",
    "patient.last_name": "patient_last_name",
    "patient.date_of_birth": "patient_dob",
    "patient.mrn": "patient_mrn",
    "patient": "patient_last_name",
    "requester.first_name": "requester_first_name",
    "requester.last_name": "requester_last_name",
    "requester.relationship": "relationship",
    "requester.contact.email": "email",
    "requester.contact.phone": "phone",
    "requester.contact.address.line1": "address_line1",
    "requester.contact.address.line2": "address_line2",
    "requester.contact.address.city": "address_city",
    "requester.contact.address.state": "address_state",
    "requester.contact.address.postal_code": "address_postal_code",
    "requester.contact.address": "address_line1",
    "records.description": "records_description",
    "records.date_from": "date_from",
    "records.date_to": "date_to",
    "records": "records_description",
    "delivery_method": "delivery",
    "electronic_format": "format",
    "consent": "consent",
    # the other kinds (portal/cases.py): their own fields, named as on their forms
    "record_description": "record_description",
    "date_of_service": "date_of_service",
    "requested_change": "requested_change",
    "reason": "reason",
    "authorizations": "authorizations",
    "signed": "consent",
    "basis": "basis",
    "documents": "document_file",
    "question": "question",
    "statement_from": "date_from",
    "statement_to": "date_to",
    "patient.date_of_death": "patient_dod",
    "reporter.first_name": "requester_first_name",
    "reporter.last_name": "requester_last_name",
    "reporter.relationship": "reporter_relationship",
    "reporter.phone": "phone",
    "reporter.email": "email",
    "reporter": "requester_last_name",
    "parents.0.first_name": "requester_first_name",
    "parents.0.last_name": "requester_last_name",
    "parents.0.contact.email": "email",
    "parents.0.contact.phone": "phone",
    "parents.0.contact.address.line1": "address_line1",
    "parents.0.contact.address.line2": "address_line2",
    "parents.0.contact.address.city": "address_city",
    "parents.0.contact.address.state": "address_state",
    "parents.0.contact.address.postal_code": "address_postal_code",
    "parents.0.contact.address": "address_line1",
    "parents": "requester_last_name",
    "document_type": "document_type",
    "pages_received": "document_file",
    # the third-party authorization: its 164.508(c) elements, each a field of the form
    "recipient.name": "recipient_name",
    "recipient.contact.email": "recipient_email",
    "recipient.contact.address.line1": "recipient_address_line1",
    "recipient.contact.address.city": "recipient_address_city",
    "recipient.contact.address.state": "recipient_address_state",
    "recipient.contact.address.postal_code": "recipient_address_postal_code",
    "recipient.contact.address": "recipient_address_line1",
    "recipient": "recipient_name",
    "authorization.information_description": "records_description",
    "authorization.disclosing_party": "site",
    "authorization.recipient": "recipient_name",
    "authorization.purpose": "purpose",
    "authorization.expiration_date": "expiration_date",
    "authorization.expiration_event": "expiration_event",
    "authorization.signed": "signature_name",
    "authorization.signature_date": "signature_name",
    "authorization.signer_role": "signer",
    "authorization.representative_authority": "representative_authority",
    "authorization.authority_documents": "authority_document",
    "authorization.statement_right_to_revoke": "ack_revoke",
    "authorization.statement_conditioning": "ack_conditioning",
    "authorization.statement_redisclosure": "ack_redisclosure",
}

#: Paths that mean another field on the third-party form (the signer's own email and phone).
THIRD_PARTY_FIELDS: dict[str, str] = {
    "requester.contact.email": "signer_email",
    "requester.first_name": "requester_first_name",
    "requester.last_name": "requester_last_name",
}

#: A sentence for one field and code, where the general sentence would not say what to do.
_SPECIFIC: dict[tuple[str, str], str] = {
    ("email", "missing"): N_("Give an email address: the secure link is sent there."),
    ("email", "value_error"): N_("Enter an email address like name@example.com."),
    ("phone", "value_error"): N_("Enter a phone number with its area code, like 507-555-0100."),
    ("address_line1", "missing"): N_("Give a mailing address for this way of delivery."),
    ("address_line1", "po_box_not_allowed"): N_(
        "FedEx cannot deliver to a P.O. box. Give a street address."
    ),
    ("address_state", "value_error"): N_("Enter the two-letter state code, like MN."),
    ("address_state", "string_too_short"): N_("Enter the two-letter state code, like MN."),
    ("address_state", "string_too_long"): N_("Enter the two-letter state code, like MN."),
    ("address_postal_code", "value_error"): N_("Enter a 5-digit ZIP code, like 55905."),
    ("patient_mrn", "string_pattern_mismatch"): N_(
        "A medical record number has only letters, digits and dashes."
    ),
    ("requester_first_name", "missing"): N_(
        "Give your own name: letters about the request are addressed to you."
    ),
    ("requester_last_name", "missing"): N_(
        "Give your own name: letters about the request are addressed to you."
    ),
    ("date_to", "before_start"): N_("The end date is before the start date."),
    ("signer_email", "missing"): N_("Give your email address: the code to sign is sent there."),
    ("signer_email", "value_error"): N_("Enter an email address like name@example.com."),
    ("recipient_email", "missing"): N_(
        "Give the recipient's email address for the secure link, or choose mail."
    ),
    ("recipient_email", "value_error"): N_("Enter an email address like name@example.com."),
    ("recipient_address_line1", "missing"): N_(
        "Give the recipient's mailing address for delivery by mail."
    ),
    ("recipient_address_state", "value_error"): N_("Enter the two-letter state code, like MN."),
    ("recipient_address_state", "string_too_short"): N_(
        "Enter the two-letter state code, like MN."
    ),
    ("recipient_address_postal_code", "value_error"): N_("Enter a 5-digit ZIP code, like 55905."),
    ("expiration_date", "expiration_missing"): N_(
        "Give a date or an event on which this authorization ends."
    ),
    ("expiration_date", "expired"): N_("This date has passed. Choose a later end date."),
    ("basis", "patient_not_a_minor"): N_(
        "The patient is 18 or older, so a parent's access has ended. Choose the legal "
        "authority you have."
    ),
    ("phone", "missing"): N_("Give a phone number: we call to confirm the notice."),
    ("phone", "string_pattern_mismatch"): N_(
        "Enter a phone number with its area code, like 507-555-0100."
    ),
}

#: A sentence per code, naming the field by its label (`%(label)s`).
_GENERAL: dict[str, str] = {
    "missing": N_("Fill in: %(label)s."),
    "string_too_short": N_("Fill in: %(label)s."),
    "string_too_long": N_("%(label)s is too long."),
    "too_long": N_("%(label)s is too long."),
    "date_parsing": N_("Enter a real date for: %(label)s."),
    "date_from_datetime_parsing": N_("Enter a real date for: %(label)s."),
    "date_from_datetime_inexact": N_("Enter a real date for: %(label)s."),
    "date_type": N_("Enter a real date for: %(label)s."),
    "in_future": N_("%(label)s cannot be in the future."),
    "enum": N_("Choose one of the options for: %(label)s."),
    "literal_error": N_("Choose one of the options for: %(label)s."),
    "cd_for_imaging_only": N_("A CD is offered for imaging only."),
    "po_box_not_allowed": N_("FedEx cannot deliver to a P.O. box. Give a street address."),
    "format_needs_electronic_delivery": N_(
        "A format other than PDF is sent by secure email link: choose that delivery."
    ),
    "not_a_right_of_access_requester": N_(
        "This form is for the patient or their personal representative."
    ),
    "consent_required": N_("Check the box to confirm before sending."),
    "not_the_patient_or_representative": N_(
        "This form is for the patient or their personal representative."
    ),
    "too_short": N_("Fill in: %(label)s."),
    "not_a_tracking_number": N_("Give each authorization's tracking number, like ROI-AB12C-3DE45."),
    "upload_missing": N_("Attach the document: a PDF, or a photo of it (JPEG or PNG)."),
    "upload_too_large": N_(
        "The file is larger than %(megabytes)s MB. Send a smaller scan or photo."
    ),
    "upload_type": N_("This file is not a PDF, JPEG or PNG. Send the document as one of these."),
    "upload_unreadable": N_(
        "The file could not be read: it may be damaged or locked with a password. Send it "
        "again without a password."
    ),
    "invalid_characters": N_("%(label)s has characters we cannot keep. Type it again."),
    "description_missing": N_("Fill in: %(label)s."),
    "discloser_missing": N_("Choose one of the options for: %(label)s."),
    "recipient_missing": N_("Fill in: %(label)s."),
    "purpose_missing": N_("Fill in: %(label)s."),
    "statement_revocation_missing": N_("Check the box to show you have read this statement."),
    "statement_conditioning_missing": N_("Check the box to show you have read this statement."),
    "statement_redisclosure_missing": N_("Check the box to show you have read this statement."),
    "signature_missing": N_("Type your full name to sign."),
    "signature_date_missing": N_("Type your full name to sign."),
    "authority_description_missing": N_("Describe your authority to act for the patient."),
    "authority_documents_missing": N_("Choose the document that proves your authority."),
    "authority_document_not_accepted": N_(
        "This document does not prove this kind of authority. Choose the one you have."
    ),
    "financial_poa_not_representative": N_(
        "This document does not prove this kind of authority. Choose the one you have."
    ),
    "patient_not_a_minor": N_(
        "A parent signs only for a patient under 18. An adult patient signs for themselves."
    ),
    "esign_consent_required": N_("Check the box to agree to sign electronically."),
    "code_missing": N_("Enter the code we emailed you. No code yet? Use “Email me a code”."),
    "code_none": N_("Ask for a code first: use “Email me a code”."),
    "code_wrong": N_("That code is not right. Check the email and type it again."),
    "code_expired": N_("This code no longer works. Ask for a new one."),
    "signature_unreadable": N_(
        "The drawing could not be read. Draw it again, or clear it: your typed name is your "
        "signature."
    ),
    "ff_scope_missing": N_("Choose at least one thing they may be told, or describe it."),
    "ff_end_missing": N_("Choose a date, or until you end it."),
    "ff_end_past": N_("This date has passed. Choose a later end date."),
    "codes_limited": N_(
        "Too many codes were sent to this address. Try again in %(minutes)s minutes."
    ),
}
_UNKNOWN = N_("Check this field: %(label)s.")


@dataclass(frozen=True)
class FormError:
    """One error as the page shows it: the form field and the sentence, translated."""

    field: str
    message: str


def field_of(path: str, overrides: Mapping[str, str] | None = None) -> str:
    """The form field a domain path belongs to ("form" when none: shown at the top)."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        found = (overrides or {}).get(prefix) or _FIELD_OF.get(prefix)
        if found:
            return found
    return "form"


def translate_issues(
    issues: list[FieldIssue],
    gettext: Callable[[str], str],
    overrides: Mapping[str, str] | None = None,
) -> list[FormError]:
    """Each issue as a sentence in the page's language, once per field (the first wins)."""
    out: dict[str, FormError] = {}
    for found in issues:
        name = field_of(found.field, overrides)
        if name in out:
            continue
        label = gettext(LABELS.get(name, LABELS["form"]))
        specific = _SPECIFIC.get((name, found.code))
        template = specific or _GENERAL.get(found.code, _UNKNOWN)
        out[name] = FormError(name, gettext(template) % {"label": label})
    return list(out.values())


def portal_error(
    name: str, code: str, gettext: Callable[[str], str], **values: object
) -> FormError:
    """One of the portal's own errors (not the domain's): the field and its sentence."""
    label = gettext(LABELS.get(name, LABELS["form"]))
    return FormError(name, gettext(_GENERAL[code]) % {"label": label, **values})


def consent_error(gettext: Callable[[str], str]) -> FormError:
    """The confirmation box was left unchecked (the portal's own rule, before anything is sent)."""
    return FormError("consent", gettext(_GENERAL["consent_required"]))


# ---- what each form offers -------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryChoice:
    """A way to receive the records, its label and its fee (domain/fees.py)."""

    method: DeliveryMethod
    label: str
    hint: str
    fee_cents: int


def _fee(kind: RequestKind, method: DeliveryMethod) -> int:
    """What this delivery costs the patient (their own request: copies are free)."""
    quote = quote_fee(
        site=Site.MINNESOTA,  # the right-of-access fee is the same at every site
        delivery=method,
        under_right_of_access=True,
        schedule=DEFAULT_FEE_SCHEDULE,
        kind=kind,
    )
    return quote.total_cents


def delivery_choices(kind: RequestKind) -> list[DeliveryChoice]:
    """The deliveries a kind allows (a CD only for imaging), each with its fee."""
    if kind == RequestKind.IMAGING:
        options = [
            (
                DeliveryMethod.EMAIL_LINK,
                N_("Secure link by email"),
                N_("View and download the images online."),
            ),
            (DeliveryMethod.CD_MAIL, N_("CD by US mail"), N_("An encrypted CD, mailed to you.")),
            (
                DeliveryMethod.FEDEX,
                N_("FedEx"),
                N_("Delivered within 2 business days once it is ready."),
            ),
        ]
    else:
        options = [
            (
                DeliveryMethod.EMAIL_LINK,
                N_("Secure link by email"),
                N_("Download the records online."),
            ),
            (DeliveryMethod.US_MAIL, N_("Paper copies by US mail"), N_("Mailed to your address.")),
            (
                DeliveryMethod.FEDEX,
                N_("FedEx"),
                N_("Delivered within 2 business days once it is ready."),
            ),
        ]
    return [DeliveryChoice(m, label, hint, _fee(kind, m)) for m, label, hint in options]


FORMATS: tuple[tuple[str, str], ...] = (
    ("pdf", N_("PDF, readable on any device")),
    ("fhir_bundle", N_("Structured data (FHIR), for health apps")),
)
RELATIONSHIPS: tuple[tuple[str, str], ...] = (
    ("self", N_("I am the patient")),
    ("parent", N_("I am the parent or guardian of a patient under 18")),
    ("legal_representative", N_("I am the patient's legal representative")),
)

_FORM_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_form_id() -> str:
    """A random id for one filled form: the idempotency key of its submission, so a double
    click sends one request; a form shown again after an error gets a new one."""
    return secrets.token_urlsafe(18)


def idempotency_key(form: Mapping[str, str]) -> str | None:
    """The submission's key from the form's id (None when it is not one of ours)."""
    form_id = form.get("form_id", "")
    return f"portal:{form_id}" if _FORM_ID.match(form_id) else None


def _clean(form: Mapping[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _some(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def clean(form: Mapping[str, str], name: str) -> str | None:
    """A typed value without its surrounding spaces (None when empty)."""
    return _clean(form, name)


def some(values: dict[str, Any]) -> dict[str, Any]:
    """Only the values that were given."""
    return _some(values)


def contact_of(form: Mapping[str, str]) -> dict[str, Any]:
    """The contact the form's "How we reach you" section gives."""
    address = _some(
        {
            "line1": _clean(form, "address_line1"),
            "line2": _clean(form, "address_line2"),
            "city": _clean(form, "address_city"),
            "state": _clean(form, "address_state"),
            "postal_code": _clean(form, "address_postal_code"),
        }
    )
    return _some(
        {
            "email": _clean(form, "email"),
            "phone": _clean(form, "phone"),
            "address": address or None,
        }
    )


def patient_of(form: Mapping[str, str]) -> dict[str, Any]:
    """The patient as typed."""
    return _some(
        {
            "first_name": _clean(form, "patient_first_name"),
            "middle_name": _clean(form, "patient_middle_name"),
            "last_name": _clean(form, "patient_last_name"),
            "date_of_birth": _clean(form, "patient_dob"),
            "mrn": _clean(form, "patient_mrn"),
        }
    )


def case_payload(
    kind: RequestKind,
    form: Mapping[str, str],
    language: Language,
    relationship: str | None = None,
) -> dict[str, Any]:
    """What every request from the patient's side carries: kind, site, channel and language,
    the patient, and who asks (the patient's own name when they are the patient)."""
    relationship = relationship or _clean(form, "relationship") or "self"
    first = _clean(form, "patient_first_name")
    last = _clean(form, "patient_last_name")
    requester_first = _clean(form, "requester_first_name")
    requester_last = _clean(form, "requester_last_name")
    if relationship == "self":
        requester_first, requester_last = first, last
    return _some(
        {
            "kind": kind.value,
            "site": _clean(form, "site"),
            "channel": "portal",
            "language": language.value,
            "patient": patient_of(form),
            "requester": _some(
                {
                    "first_name": requester_first,
                    "last_name": requester_last,
                    "relationship": relationship,
                    "contact": contact_of(form),
                }
            ),
        }
    )


def record_payload(
    kind: RequestKind, form: Mapping[str, str], language: Language
) -> dict[str, Any]:
    """The submission the domain validates, from what was typed (nothing typed is dropped
    silently: an unknown choice stays as typed and the domain names its field)."""
    payload = case_payload(kind, form, language)
    payload.update(
        _some(
            {
                "records": _some(
                    {
                        "description": _clean(form, "records_description"),
                        "date_from": _clean(form, "date_from"),
                        "date_to": _clean(form, "date_to"),
                    }
                ),
                "delivery_method": _clean(form, "delivery"),
            }
        )
    )
    if kind == RequestKind.ACCESS_OWN:
        payload["electronic_format"] = _clean(form, "format") or "pdf"
    return payload
