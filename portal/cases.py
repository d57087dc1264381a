"""The portal's forms for the requests that are not copies of records: revoking an
authorization, asking for an amendment, proxy access, a billing question, and the notices of
a death or an adoption. Each is a list of sections of fields (shown by templates/case_form.html
with the same field macros as every portal form) and a function from what was typed to the
kind's own submission (domain/kinds/), which services/intake.py validates as it does every
channel's. Outside records have no form: the page answers at once (routes/cases.py).

Strings are msgids (`N_`), translated where they are shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.kinds.adoption import ACCEPTED as ACCEPTED_DECREES
from domain.kinds.adoption import AdoptionDocument
from domain.kinds.proxy import MINOR_BASES, ProxyBasis
from domain.types import Language, RequestKind
from portal.forms import N_, case_payload, clean, contact_of, patient_of, some
from portal.forms import RELATIONSHIPS as RELATIONSHIPS_


@dataclass(frozen=True)
class Field:
    """One field of a form: its name (forms.LABELS holds its label), how it is typed, a hint
    and whether it must be given; `options` are (value, label msgid) for a choice."""

    name: str
    widget: str = "text"  # text, date, email, tel, textarea, radios, file
    hint: str | None = None
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    maxlength: int = 100
    autocomplete: str | None = None


@dataclass(frozen=True)
class Section:
    """A titled part of a form."""

    heading: str
    fields: tuple[Field, ...]


Payload = Callable[[Mapping[str, str], Language, int], dict[str, Any]]


@dataclass(frozen=True)
class CaseForm:
    """A kind's form: where it lives, what it says, its sections, the sentence confirmed
    before sending, the document it asks for (stored under `upload`), and its payload."""

    kind: RequestKind
    slug: str
    heading: str
    summary: str
    intro: str
    sections: tuple[Section, ...]
    consent: str
    payload: Payload
    upload: str | None = None

    @property
    def action(self) -> str:
        """The form's address."""
        return f"/request/{self.slug}"

    def field_names(self) -> list[str]:
        """Every field in page order (errors are listed in it)."""
        return ["form", *(f.name for s in self.sections for f in s.fields), "consent"]


SITES = (
    ("arizona", N_("Arizona")),
    ("florida", N_("Florida")),
    ("minnesota", N_("Minnesota")),
    ("wisconsin", N_("Wisconsin")),
)
ONLY_IF_NOT_PATIENT = N_("Only if you are not the patient.")
UPLOAD_HINT = N_(
    "A PDF, or a clear photo (JPEG or PNG), up to %(megabytes)s MB. Only hospital staff see "
    "it; it is never shown on this site."
)

DEATH_CERTIFICATE_HINT = N_(
    "The death certificate: a PDF, or a clear photo (JPEG or PNG), up to %(megabytes)s MB. "
    "Only hospital staff see it; it is never shown on this site."
)

WHO = Section(
    N_("Who is asking"),
    (
        Field("relationship", "radios", options=RELATIONSHIPS_),
        Field("requester_first_name", hint=ONLY_IF_NOT_PATIENT, autocomplete="given-name"),
        Field("requester_last_name", hint=ONLY_IF_NOT_PATIENT, autocomplete="family-name"),
    ),
)


def _patient(*, middle_required: bool = False, heading: str = N_("The patient")) -> Section:
    return Section(
        heading,
        (
            Field("patient_first_name", required=True),
            Field("patient_middle_name", required=middle_required),
            Field("patient_last_name", required=True),
            Field("patient_dob", "date", required=True),
            Field(
                "patient_mrn",
                hint=N_("On your patient card or a bill, if you have it."),
                maxlength=20,
            ),
            Field("site", "radios", hint=N_("Where the patient was seen."), options=SITES),
        ),
    )


CONTACT = Section(
    N_("How we reach you"),
    (
        Field("email", "email", maxlength=320, autocomplete="email"),
        Field("phone", "tel", maxlength=25, autocomplete="tel"),
        Field("address_line1", autocomplete="address-line1"),
        Field("address_line2", autocomplete="address-line2"),
        Field("address_city", maxlength=60, autocomplete="address-level2"),
        Field(
            "address_state",
            hint=N_("Two letters, like MN."),
            maxlength=2,
            autocomplete="address-level1",
        ),
        Field("address_postal_code", maxlength=10, autocomplete="postal-code"),
    ),
)
DOCUMENT = Field("document_file", "file", hint=UPLOAD_HINT, required=True)
CONFIRM = N_(
    "I am the patient or the patient's personal representative, and what I typed is true. I "
    "understand the hospital may call me to confirm who I am."
)
CONFIRM_NOTICE = N_(
    "What I typed is true. I understand the hospital may call me to confirm it before the "
    "record is changed."
)


# ---- payloads -------------------------------------------------------------------------------

_TRACKING = re.compile(r"[A-Za-z0-9-]+")


def _amendment(form: Mapping[str, str], language: Language, _pages: int) -> dict[str, Any]:
    payload = case_payload(RequestKind.AMENDMENT, form, language)
    payload.update(
        some(
            {
                "record_description": clean(form, "record_description"),
                "date_of_service": clean(form, "date_of_service"),
                "requested_change": clean(form, "requested_change"),
                "reason": clean(form, "reason"),
            }
        )
    )
    return payload


def _revocation(form: Mapping[str, str], language: Language, _pages: int) -> dict[str, Any]:
    payload = case_payload(RequestKind.REVOCATION, form, language)
    numbers = [n.upper() for n in _TRACKING.findall(clean(form, "authorizations") or "")]
    payload["authorizations"] = numbers
    # the portal's confirmation box is the written, signed revocation (checked before sending)
    payload["signed"] = form.get("consent") == "yes"
    return payload


def _proxy(form: Mapping[str, str], language: Language, _pages: int) -> dict[str, Any]:
    basis = clean(form, "basis")
    minor = basis in {b.value for b in MINOR_BASES}
    relationship = "parent" if minor else "legal_representative"
    payload = case_payload(RequestKind.PROXY_ACCESS, form, language, relationship)
    payload.update(some({"basis": basis}))
    document = some(
        {"kind": clean(form, "document_kind"), "ends_on": clean(form, "document_ends_on")}
    )
    payload["documents"] = [document] if _pages and document.get("kind") else []
    return payload


def _billing(form: Mapping[str, str], language: Language, _pages: int) -> dict[str, Any]:
    payload = case_payload(RequestKind.BILLING, form, language)
    payload.update(
        some(
            {
                "question": clean(form, "question"),
                "statement_from": clean(form, "date_from"),
                "statement_to": clean(form, "date_to"),
            }
        )
    )
    return payload


def _deceased(form: Mapping[str, str], language: Language, _pages: int) -> dict[str, Any]:
    patient = patient_of(form)
    patient.update(some({"date_of_death": clean(form, "patient_dod")}))
    return some(
        {
            "kind": RequestKind.DECEASED_NOTICE.value,
            "site": clean(form, "site"),
            "channel": "portal",
            "language": language.value,
            "patient": patient,
            "reporter": some(
                {
                    "first_name": clean(form, "requester_first_name"),
                    "last_name": clean(form, "requester_last_name"),
                    "relationship": clean(form, "reporter_relationship"),
                    "phone": clean(form, "phone"),
                    "email": clean(form, "email"),
                }
            ),
        }
    )


def _adoption(form: Mapping[str, str], language: Language, pages: int) -> dict[str, Any]:
    parent = some(
        {
            "first_name": clean(form, "requester_first_name"),
            "last_name": clean(form, "requester_last_name"),
            "contact": contact_of(form),
        }
    )
    return some(
        {
            "kind": RequestKind.ADOPTION_NOTICE.value,
            "site": clean(form, "site"),
            "channel": "portal",
            "language": language.value,
            "patient": patient_of(form),
            "parents": [parent],
            "document_type": clean(form, "document_type"),
            "pages_received": pages or None,
        }
    )


# ---- the forms ------------------------------------------------------------------------------

PROXY_BASES = (
    (ProxyBasis.PARENT_OF_MINOR.value, N_("I am the parent of a patient under 18")),
    (ProxyBasis.GUARDIAN_OF_MINOR.value, N_("I am the guardian of a patient under 18")),
    (ProxyBasis.LEGAL_GUARDIAN.value, N_("I am an adult patient's court-appointed guardian")),
    (
        ProxyBasis.HEALTH_CARE_AGENT.value,
        N_("I am the agent named in a health care power of attorney"),
    ),
    (ProxyBasis.CONSERVATOR.value, N_("I am the patient's conservator")),
)
PROXY_DOCUMENTS = (
    ("birth_certificate", N_("Birth certificate")),
    ("custody_order", N_("Custody order")),
    ("guardianship_order", N_("Guardianship order")),
    ("health_care_power_of_attorney", N_("Health care power of attorney")),
    ("conservatorship_order", N_("Conservatorship order")),
)
DECREES = tuple(
    (d.value, label)
    for d, label in (
        (AdoptionDocument.ADOPTION_DECREE, N_("Adoption decree (decree of adoption)")),
        (AdoptionDocument.ORDER_ON_PETITION, N_("Order on petition for adoption")),
        (
            AdoptionDocument.FINDING_AND_ORDER,
            N_("Finding and order for judgment and decree of adoption"),
        ),
    )
    if d in ACCEPTED_DECREES
)

FORMS: tuple[CaseForm, ...] = (
    CaseForm(
        RequestKind.AMENDMENT,
        "amendment",
        N_("Ask for a change to your record"),
        N_("If something in your record is wrong or missing. We answer within 60 days."),
        N_(
            "Tell us what is wrong, where, and what it should say. A specialist reviews it and "
            "answers in writing within 60 days. A copy of a document that shows the right "
            "information helps, but is not needed."
        ),
        (
            WHO,
            _patient(),
            Section(
                N_("The change you ask for"),
                (
                    Field(
                        "record_description",
                        "textarea",
                        hint=N_("For example: the allergy list in my visit notes."),
                        required=True,
                        maxlength=1000,
                    ),
                    Field("date_of_service", "date"),
                    Field("requested_change", "textarea", required=True, maxlength=4000),
                    Field("reason", "textarea", required=True, maxlength=4000),
                    Field("document_file", "file", hint=UPLOAD_HINT),
                ),
            ),
            CONTACT,
        ),
        CONFIRM,
        _amendment,
        "supporting_document",
    ),
    CaseForm(
        RequestKind.REVOCATION,
        "revocation",
        N_("Revoke an authorization"),
        N_("Stop a release you authorized. It takes effect when we receive it."),
        N_(
            "Anything not yet released under the authorization will not be sent. What was "
            "already released before we received this cannot be taken back."
        ),
        (
            WHO,
            _patient(),
            Section(
                N_("The authorizations"),
                (
                    Field(
                        "authorizations",
                        "textarea",
                        hint=N_(
                            "The tracking number of each authorization, like ROI-AB12C-3DE45, "
                            "one per line. It is on the letter we sent you."
                        ),
                        required=True,
                        maxlength=800,
                    ),
                ),
            ),
            CONTACT,
        ),
        N_(
            "I revoke the authorizations listed above. I am the patient or the patient's "
            "personal representative; checking this box signs this revocation."
        ),
        _revocation,
    ),
    CaseForm(
        RequestKind.PROXY_ACCESS,
        "proxy-access",
        N_("Ask for proxy access"),
        N_(
            "Access to the records of your child, or of an adult you represent, with the legal "
            "document that proves it."
        ),
        N_(
            "A parent or guardian of a patient under 18, or a court-appointed guardian, health "
            "care agent or conservator of an adult. Send the document that gives you this "
            "authority; we check it before access is given."
        ),
        (
            Section(
                N_("You"),
                (
                    Field("requester_first_name", required=True, autocomplete="given-name"),
                    Field("requester_last_name", required=True, autocomplete="family-name"),
                    Field("basis", "radios", options=PROXY_BASES),
                ),
            ),
            _patient(),
            Section(
                N_("The document that proves your authority"),
                (
                    Field("document_kind", "radios", options=PROXY_DOCUMENTS),
                    Field(
                        "document_ends_on",
                        "date",
                        hint=N_("Only if the document says when it ends."),
                    ),
                    DOCUMENT,
                ),
            ),
            CONTACT,
        ),
        CONFIRM,
        _proxy,
        "legal_document",
    ),
    CaseForm(
        RequestKind.BILLING,
        "billing",
        N_("Ask a billing question"),
        N_("A question about a bill or a statement. The billing office answers within 30 days."),
        N_(
            "Ask about a charge, a payment or a statement. The billing office answers in "
            "writing within 30 days."
        ),
        (
            WHO,
            _patient(),
            Section(
                N_("Your question"),
                (
                    Field("question", "textarea", required=True, maxlength=4000),
                    Field("date_from", "date", hint=N_("Statement dates, if it is about one.")),
                    Field("date_to", "date"),
                ),
            ),
            CONTACT,
        ),
        CONFIRM,
        _billing,
    ),
    CaseForm(
        RequestKind.DECEASED_NOTICE,
        "death-notice",
        N_("Tell us about a death"),
        N_("Let the hospital know that a patient has died, with the death certificate."),
        N_(
            "We are sorry for your loss. Our records team updates the patient's record after "
            "checking the death certificate. We may call you to confirm."
        ),
        (
            _patient(middle_required=True, heading=N_("The person who died")),
            Section(
                N_("The death"),
                (
                    Field("patient_dod", "date", required=True),
                    Field(
                        "document_file",
                        "file",
                        hint=DEATH_CERTIFICATE_HINT,
                        required=True,
                    ),
                ),
            ),
            Section(
                N_("You"),
                (
                    Field("requester_first_name", required=True, autocomplete="given-name"),
                    Field("requester_last_name", required=True, autocomplete="family-name"),
                    Field(
                        "reporter_relationship",
                        hint=N_("For example: daughter, spouse, executor."),
                        required=True,
                    ),
                    Field("phone", "tel", required=True, maxlength=25, autocomplete="tel"),
                    Field("email", "email", maxlength=320, autocomplete="email"),
                ),
            ),
        ),
        CONFIRM_NOTICE,
        _deceased,
        "death_certificate",
    ),
    CaseForm(
        RequestKind.ADOPTION_NOTICE,
        "adoption-notice",
        N_("Tell us about an adoption"),
        N_("Adoptive parents: send the court's decree so the child's record is updated."),
        N_(
            "Only a complete copy of the court's final decree can be used: a birth certificate, "
            "a petition or a custody or guardianship order cannot."
        ),
        (
            _patient(heading=N_("The child, as the hospital knows them now")),
            Section(
                N_("The adoption"),
                (Field("document_type", "radios", options=DECREES), DOCUMENT),
            ),
            Section(
                N_("You"),
                (
                    Field("requester_first_name", required=True, autocomplete="given-name"),
                    Field("requester_last_name", required=True, autocomplete="family-name"),
                ),
            ),
            CONTACT,
        ),
        CONFIRM_NOTICE,
        _adoption,
        "adoption_decree",
    ),
)
BY_SLUG: dict[str, CaseForm] = {f.slug: f for f in FORMS}

#: Outside records: what the page answers at once (domain/kinds/outside_records.py's
#: REDIRECT_MESSAGE, the OutsideRecords workflow's reply, word for word; a test keeps them
#: equal).
OUTSIDE_HEADING = N_("Records from another hospital or clinic")
OUTSIDE_SUMMARY = N_("Records another provider made, or records you want to give us.")
OUTSIDE_ASK = N_(
    "We can release only the records our hospital made. For records another hospital, clinic "
    "or doctor made, ask that provider: they keep them and release them."
)
OUTSIDE_REDIRECT = N_(
    "Thank you for sending these records. Records from other facilities for an upcoming "
    "appointment are not handled by Release of Information. Please send them to your care team "
    "by attaching them to a message in the Patient Portal, or as your care team instructed. "
    "Your care team can confirm that they received them."
)
OUTSIDE_SENDING = N_("To give us records from another provider for an appointment")
