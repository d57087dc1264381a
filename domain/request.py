"""A records request as submitted, and the intake rules that decide whether it can be queued.

`parse_submission` turns raw JSON-like data into a `RecordRequestSubmission` or a list of
field-level issues; it never raises for bad input and never echoes submitted values.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from domain.authorization import Authorization, SignerRole
from domain.errors import FieldIssue, issue
from domain.types import (
    RECORD_COPY_KINDS,
    Channel,
    DeliveryMethod,
    DisclosureCategory,
    Language,
    RequestKind,
    Site,
)

_NAME = Field(min_length=1, max_length=100)
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{7,25}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}$")
_PO_BOX = re.compile(r"\bP\.?\s*O\.?\s*BOX\b", re.IGNORECASE)


class Relationship(StrEnum):
    """The requester's relation to the patient."""

    SELF = "self"
    PARENT = "parent"  # parent or guardian of a minor: a personal representative
    LEGAL_REPRESENTATIVE = "legal_representative"  # guardian, agent, executor, administrator
    ATTORNEY = "attorney"
    INSURER = "insurer"
    PROVIDER = "provider"
    EMPLOYER = "employer"
    FAMILY_OR_FRIEND = "family_or_friend"
    OTHER = "other"


#: Requesters who act under the patient's own right of access (164.524, 164.502(g)).
ACCESS_RELATIONSHIPS = frozenset(
    {Relationship.SELF, Relationship.PARENT, Relationship.LEGAL_REPRESENTATIVE}
)


class _Strict(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}


class Address(_Strict):
    line1: str = Field(min_length=1, max_length=100)
    line2: str | None = Field(default=None, max_length=100)
    city: str = Field(min_length=1, max_length=60)
    state: str = Field(min_length=2, max_length=2)
    postal_code: str

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if not value.isalpha():
            raise ValueError("use the two-letter state code")
        return value.upper()

    @field_validator("postal_code")
    @classmethod
    def _zip(cls, value: str) -> str:
        if not _ZIP.match(value):
            raise ValueError("use a 5-digit ZIP code or ZIP+4")
        return value

    def lines(self) -> list[str]:
        """The address as printed on an envelope."""
        out = [self.line1]
        if self.line2:
            out.append(self.line2)
        out.append(f"{self.city}, {self.state} {self.postal_code}")
        return out


class Contact(_Strict):
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=25)
    address: Address | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("enter a valid email address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError("enter a valid phone number")
        return value


class Patient(_Strict):
    first_name: str = _NAME
    middle_name: str | None = Field(default=None, max_length=100)
    last_name: str = _NAME
    date_of_birth: date
    mrn: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9-]+$")

    def display_name(self) -> str:
        """Name as printed on letters (never logged)."""
        parts = [self.first_name, self.middle_name, self.last_name]
        return " ".join(p for p in parts if p)


class Requester(_Strict):
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    organization: str | None = Field(default=None, max_length=200)
    relationship: Relationship = Relationship.SELF
    contact: Contact = Field(default_factory=Contact)

    def display_name(self) -> str:
        """Person's name, else the organization's."""
        person = " ".join(p for p in [self.first_name, self.last_name] if p)
        return person or (self.organization or "")


class Representative(_Strict):
    """The personal representative (164.502(g)) who signed the authorization for the patient:
    letters about the request are addressed to them."""

    first_name: str = _NAME
    last_name: str = _NAME
    contact: Contact = Field(default_factory=Contact)

    def display_name(self) -> str:
        """Name as printed on letters (never logged)."""
        return f"{self.first_name} {self.last_name}"


#: Requesters who are themselves the patient's personal representative (164.502(g)).
REPRESENTATIVE_RELATIONSHIPS = frozenset({Relationship.PARENT, Relationship.LEGAL_REPRESENTATIVE})


class Recipient(_Strict):
    """Where the records go, when not to the requester."""

    name: str = Field(min_length=1, max_length=200)
    contact: Contact = Field(default_factory=Contact)


class RecordsWanted(_Strict):
    description: str = Field(min_length=1, max_length=2000)
    date_from: date | None = None
    date_to: date | None = None
    record_types: list[str] = Field(default_factory=list, max_length=30)


class LegalDocument(_Strict):
    """A subpoena or court order (164.512(e)), as read by the specialist."""

    court: str = Field(min_length=1, max_length=200)
    case_number: str = Field(min_length=1, max_length=64)
    issued_on: date
    signed_by_judge: bool = False  # a court order is signed by a judge or magistrate
    #: Subpoena only: written satisfactory assurance that the patient was notified and the time
    #: to object passed with no objection (164.512(e)(1)(ii)(A), (iii)) ...
    assurance_patient_notified: bool = False
    #: ... or that a qualified protective order was sought or obtained ((ii)(B), (v)).
    assurance_protective_order: bool = False


class ElectronicFormat(StrEnum):
    """The form and format of an electronic copy the patient asks for (164.524(c)(2))."""

    PDF = "pdf"  # the default: one PDF (images alongside in a zip)
    FHIR_BUNDLE = "fhir_bundle"  # a FHIR JSON Bundle of the released resources (FHIR source)
    OTHER = "other"  # agreed with the patient, described in `other_format`; staff produce it


class PlainEmailHow(StrEnum):
    """How the patient was told the risk of unencrypted email."""

    IN_WRITING = "in_writing"
    BY_PHONE = "by_phone"
    IN_PERSON = "in_person"
    PORTAL = "portal"


class PlainEmailAcceptance(_Strict):
    """The patient was told that unencrypted email may be read by others on the way, and asked
    for it anyway (164.524(c)(2), 45 CFR 164.524 guidance): that they were told, when, how."""

    told_of_risk: bool
    accepted_at: datetime
    how: PlainEmailHow
    recorded_by: str | None = Field(default=None, max_length=64)


class RecordRequestSubmission(_Strict):
    """A request for copies of records (own, third-party, imaging, provider, legal, SSA)."""

    kind: RequestKind
    site: Site
    channel: Channel
    received_at: datetime
    language: Language = Language.EN
    patient: Patient
    requester: Requester
    recipient: Recipient | None = None
    records: RecordsWanted
    delivery_method: DeliveryMethod
    authorization: Authorization | None = None
    legal_document: LegalDocument | None = None
    provider_npi: str | None = Field(default=None, pattern=r"^\d{10}$")
    certified_copy: bool = False  # add a records custodian's certification page
    #: who signed the authorization for the patient, when not the requester (issue 15)
    representative: Representative | None = None
    #: the form and format of the electronic copy (issue 15, 164.524(c)(2))
    electronic_format: ElectronicFormat = ElectronicFormat.PDF
    other_format: str | None = Field(default=None, max_length=500)  # for OTHER, as agreed
    #: the patient asks for the records attached to a plain (unencrypted) email
    plain_email: bool = False
    plain_email_acceptance: PlainEmailAcceptance | None = None

    @property
    def under_right_of_access(self) -> bool:
        """The patient or their personal representative asking under 164.524."""
        return (
            self.kind in (RequestKind.ACCESS_OWN, RequestKind.IMAGING)
            and self.requester.relationship in ACCESS_RELATIONSHIPS
        )

    @property
    def needs_authorization(self) -> bool:
        """Anything but the patient's right of access needs a basis to release: an authorization,
        a court order, or a subpoena with its assurances (see domain.release_basis)."""
        return not self.under_right_of_access

    @property
    def disclosure_category(self) -> DisclosureCategory:
        """How a release of this request is classed for the accounting of disclosures."""
        if self.under_right_of_access:
            return DisclosureCategory.PATIENT_ACCESS
        if self.kind == RequestKind.CONTINUITY_OF_CARE:
            return DisclosureCategory.TREATMENT
        if self.kind == RequestKind.COURT_ORDER:
            return DisclosureCategory.COURT_ORDER
        if self.kind == RequestKind.SUBPOENA and self.authorization is None:
            return DisclosureCategory.SUBPOENA
        return DisclosureCategory.AUTHORIZATION

    @property
    def signed_by_representative(self) -> bool:
        """The authorization (or, under the right of access, the request) is signed by a
        personal representative rather than the patient."""
        if self.under_right_of_access:
            return self.requester.relationship in REPRESENTATIVE_RELATIONSHIPS
        auth = self.authorization
        return auth is not None and auth.signer_role != SignerRole.PATIENT

    def letter_addressee(self) -> tuple[str, Contact]:
        """Who letters about the request are addressed to: the representative who signed it
        for the patient, else the requester (a requesting parent or legal representative is
        the representative)."""
        if self.signed_by_representative and self.representative is not None:
            return self.representative.display_name(), self.representative.contact
        return self.requester.display_name(), self.requester.contact

    def delivery_contact(self) -> Contact:
        """The contact the records are sent to."""
        return self.recipient.contact if self.recipient else self.requester.contact

    def recipient_name(self) -> str:
        """Who receives the records."""
        return self.recipient.name if self.recipient else self.requester.display_name()


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def issues_from_validation_error(error: ValidationError) -> list[FieldIssue]:
    """Pydantic errors as field issues, without the submitted input in the message."""
    return [
        issue(_loc_to_field(err["loc"]), err["type"], err["msg"].removeprefix("Value error, "))
        for err in error.errors(include_input=False, include_url=False)
    ]


def business_rules(sub: RecordRequestSubmission, now: datetime) -> list[FieldIssue]:
    """Rules across fields that the types alone cannot express."""
    found: list[FieldIssue] = []
    if sub.kind not in RECORD_COPY_KINDS:
        found.append(
            issue("kind", "kind_not_supported_here", "This form is for copies of records.")
        )
    if sub.received_at.tzinfo is None:
        found.append(
            issue("received_at", "timezone_required", "Give the time zone of the receipt time.")
        )
    elif sub.received_at > now:
        found.append(issue("received_at", "in_future", "The receipt time cannot be in the future."))
    if sub.patient.date_of_birth > now.date():
        found.append(
            issue(
                "patient.date_of_birth", "in_future", "The date of birth cannot be in the future."
            )
        )
    req = sub.requester
    if not req.display_name():
        found.append(
            issue("requester.last_name", "missing", "Give the requester's name or organization.")
        )
    if sub.kind == RequestKind.ACCESS_OWN and req.relationship not in ACCESS_RELATIONSHIPS:
        found.append(
            issue(
                "requester.relationship",
                "not_a_right_of_access_requester",
                "Only the patient or their personal representative can request their own records; "
                "other requesters need the third-party authorization (kind third_party).",
            )
        )
    directed = sub.under_right_of_access and sub.recipient is not None
    if directed and sub.delivery_method != DeliveryMethod.EMAIL_LINK:
        found.append(
            issue(
                "delivery_method",
                "directed_copy_must_be_electronic",
                "A patient may direct an electronic copy to another person; a paper copy for "
                "someone else needs the third-party authorization.",
            )
        )
    if sub.delivery_method == DeliveryMethod.CD_MAIL and sub.kind != RequestKind.IMAGING:
        found.append(
            issue(
                "delivery_method", "cd_for_imaging_only", "An encrypted CD is offered for imaging."
            )
        )
    contact = sub.delivery_contact()
    where = "recipient.contact" if sub.recipient else "requester.contact"
    if sub.delivery_method == DeliveryMethod.EMAIL_LINK and not contact.email:
        found.append(
            issue(f"{where}.email", "missing", "An email address is needed for a secure link.")
        )
    if sub.delivery_method != DeliveryMethod.EMAIL_LINK and contact.address is None:
        found.append(
            issue(f"{where}.address", "missing", "A mailing address is needed for this delivery.")
        )
    if (
        sub.delivery_method == DeliveryMethod.FEDEX
        and contact.address is not None
        and _PO_BOX.search(" ".join(contact.address.lines()))
    ):
        found.append(
            issue(
                f"{where}.address.line1",
                "po_box_not_allowed",
                "FedEx cannot deliver to a P.O. box.",
            )
        )
    if sub.kind == RequestKind.CONTINUITY_OF_CARE:
        if req.relationship != Relationship.PROVIDER or not req.organization:
            found.append(
                issue(
                    "requester.organization",
                    "provider_required",
                    "A continuity-of-care request comes from a provider organization.",
                )
            )
        if not sub.provider_npi:
            found.append(
                issue(
                    "provider_npi",
                    "missing",
                    "Give the requesting provider's 10-digit NPI so the provider can be verified.",
                )
            )
    if sub.kind in (RequestKind.SUBPOENA, RequestKind.COURT_ORDER) and sub.legal_document is None:
        found.append(
            issue(
                "legal_document",
                "missing",
                "Describe the subpoena or court order (court, case number, date).",
            )
        )
    found += _representative_rules(sub)
    found += format_rules(sub, now)
    wanted = sub.records
    if wanted.date_from and wanted.date_to and wanted.date_to < wanted.date_from:
        found.append(
            issue("records.date_to", "before_start", "The end date is before the start date.")
        )
    return found


def format_rules(sub: RecordRequestSubmission, now: datetime) -> list[FieldIssue]:
    """The form and format of the electronic copy, and plain email (164.524(c)(2)): a format
    other than PDF or plain email only with electronic delivery; plain email only on the
    patient's own request, to their email address, once they accepted the risk."""
    found: list[FieldIssue] = []
    electronic = sub.delivery_method == DeliveryMethod.EMAIL_LINK
    if sub.electronic_format != ElectronicFormat.PDF and not electronic:
        found.append(
            issue(
                "electronic_format",
                "format_needs_electronic_delivery",
                "An electronic format is delivered electronically (delivery by email).",
            )
        )
    if sub.electronic_format == ElectronicFormat.OTHER and not sub.other_format:
        found.append(
            issue("other_format", "missing", "Describe the format agreed with the patient.")
        )
    if sub.other_format and sub.electronic_format != ElectronicFormat.OTHER:
        found.append(
            issue(
                "other_format",
                "not_other_format",
                "Leave this out, or choose the other agreed format (electronic_format other).",
            )
        )
    acceptance = sub.plain_email_acceptance
    if not sub.plain_email:
        if acceptance is not None:
            found.append(
                issue(
                    "plain_email_acceptance",
                    "plain_email_not_asked",
                    "Leave this out unless the patient asks for unencrypted email.",
                )
            )
        return found
    own = (
        sub.under_right_of_access
        and sub.requester.relationship == Relationship.SELF
        and sub.recipient is None
    )
    if not own:
        found.append(
            issue(
                "plain_email",
                "plain_email_own_request_only",
                "Unencrypted email is sent only to the patient, on their own request.",
            )
        )
    if not electronic:
        found.append(
            issue(
                "delivery_method",
                "plain_email_needs_email",
                "Unencrypted email needs delivery by email.",
            )
        )
    elif not sub.requester.contact.email:
        found.append(
            issue(
                "requester.contact.email",
                "missing",
                "An email address is needed to send the records by email.",
            )
        )
    if acceptance is None:
        found.append(
            issue(
                "plain_email_acceptance",
                "missing",
                "Record that the patient was told the risk of unencrypted email, when and how, "
                "and accepted it.",
            )
        )
    elif not acceptance.told_of_risk:
        found.append(
            issue(
                "plain_email_acceptance.told_of_risk",
                "risk_not_accepted",
                "The patient must be told the risk of unencrypted email and accept it first.",
            )
        )
    elif acceptance.accepted_at.tzinfo is None:
        found.append(
            issue(
                "plain_email_acceptance.accepted_at",
                "timezone_required",
                "Give the time zone of the acceptance time.",
            )
        )
    elif acceptance.accepted_at > now:
        found.append(
            issue(
                "plain_email_acceptance.accepted_at",
                "in_future",
                "The acceptance time cannot be in the future.",
            )
        )
    return found


def _representative_rules(sub: RecordRequestSubmission) -> list[FieldIssue]:
    """Letters about a request signed by a personal representative go to the representative:
    their own name and somewhere to send letters are needed (the requester's, when the
    requester is the representative; else the `representative` block)."""
    found: list[FieldIssue] = []
    req = sub.requester
    if sub.signed_by_representative and req.relationship in REPRESENTATIVE_RELATIONSHIPS:
        for name in ("first_name", "last_name"):
            if not getattr(req, name):
                found.append(
                    issue(
                        f"requester.{name}",
                        "missing",
                        "Give the representative's own name: letters about the request are "
                        "addressed to them.",
                    )
                )
        if not req.contact.email and req.contact.address is None:
            found.append(
                issue(
                    "requester.contact.address",
                    "missing",
                    "Give the representative's mailing address (or email) for letters.",
                )
            )
        if sub.representative is not None:
            found.append(
                issue(
                    "representative",
                    "representative_is_requester",
                    "The requester is the representative: leave this out.",
                )
            )
        return found
    if sub.signed_by_representative and sub.representative is None:
        found.append(
            issue(
                "representative",
                "missing",
                "The authorization is signed by the patient's representative: give the "
                "representative's name and contact, so letters about the request reach them.",
            )
        )
    if sub.representative is not None:
        if not sub.signed_by_representative:
            found.append(
                issue(
                    "representative",
                    "not_signed_by_representative",
                    "The authorization is signed by the patient: leave the representative out, "
                    "or say who signed it (authorization.signer_role).",
                )
            )
        contact = sub.representative.contact
        if not contact.email and contact.address is None:
            found.append(
                issue(
                    "representative.contact.address",
                    "missing",
                    "Give the representative's mailing address (or email) for letters.",
                )
            )
    return found


def parse_submission(
    data: Any, now: datetime
) -> tuple[RecordRequestSubmission | None, list[FieldIssue]]:
    """Validate raw input: the submission, or None with every field issue found."""
    try:
        sub = RecordRequestSubmission.model_validate(data)
    except ValidationError as error:
        return None, issues_from_validation_error(error)
    problems = business_rules(sub, now)
    return (None, problems) if problems else (sub, [])
