"""A valid authorization under 45 CFR 164.508(c), and the defects of 164.508(b)(2).

`validate_authorization` returns every deficiency at once (so one deficiency letter names
them all); an empty list means the authorization is valid on the given date.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.errors import FieldIssue, issue
from domain.types import Language


class SignerRole(StrEnum):
    """Who signed; anyone but the patient is a personal representative (164.502(g))."""

    PATIENT = "patient"
    PARENT_OF_MINOR = "parent_of_minor"
    LEGAL_GUARDIAN = "legal_guardian"
    HEALTH_CARE_AGENT = "health_care_agent"  # health care power of attorney
    EXECUTOR = "executor"  # deceased patient's estate
    ADMINISTRATOR = "administrator"  # deceased patient's estate
    OTHER_REPRESENTATIVE = "other_representative"


class AuthorityDocument(StrEnum):
    """A document that may prove a representative's authority (164.502(g)), as staff read it."""

    HEALTH_CARE_POWER_OF_ATTORNEY = "health_care_power_of_attorney"
    HEALTH_CARE_DIRECTIVE = "health_care_directive"  # names a health-care agent
    LETTERS_OF_GUARDIANSHIP = "letters_of_guardianship"
    LETTERS_OF_CONSERVATORSHIP = "letters_of_conservatorship"  # with health-care authority
    BIRTH_CERTIFICATE = "birth_certificate"  # parent of a minor
    CUSTODY_ORDER = "custody_order"  # parent or guardian of a minor
    LETTERS_TESTAMENTARY = "letters_testamentary"  # executor of the estate
    LETTERS_OF_ADMINISTRATION = "letters_of_administration"  # administrator of the estate
    NEXT_OF_KIN_AFFIDAVIT = "next_of_kin_affidavit"  # state law, deceased, no estate opened
    FINANCIAL_POWER_OF_ATTORNEY = "financial_power_of_attorney"  # never a representative
    OTHER = "other"


#: The documents that prove authority for each kind of representative (164.502(g)).
#: A financial-only power of attorney is in none of them.
ACCEPTED_AUTHORITY: dict[SignerRole, frozenset[AuthorityDocument]] = {
    SignerRole.PATIENT: frozenset(),
    SignerRole.HEALTH_CARE_AGENT: frozenset(
        {AuthorityDocument.HEALTH_CARE_POWER_OF_ATTORNEY, AuthorityDocument.HEALTH_CARE_DIRECTIVE}
    ),
    SignerRole.LEGAL_GUARDIAN: frozenset(
        {AuthorityDocument.LETTERS_OF_GUARDIANSHIP, AuthorityDocument.LETTERS_OF_CONSERVATORSHIP}
    ),
    SignerRole.PARENT_OF_MINOR: frozenset(
        {
            AuthorityDocument.BIRTH_CERTIFICATE,
            AuthorityDocument.CUSTODY_ORDER,
            AuthorityDocument.LETTERS_OF_GUARDIANSHIP,
        }
    ),
    SignerRole.EXECUTOR: frozenset(
        {AuthorityDocument.LETTERS_TESTAMENTARY, AuthorityDocument.LETTERS_OF_ADMINISTRATION}
    ),
    SignerRole.ADMINISTRATOR: frozenset(
        {AuthorityDocument.LETTERS_OF_ADMINISTRATION, AuthorityDocument.LETTERS_TESTAMENTARY}
    ),
    SignerRole.OTHER_REPRESENTATIVE: frozenset({AuthorityDocument.NEXT_OF_KIN_AFFIDAVIT}),
}

#: Words on a submitted document's name, most specific first (the first match wins).
_AUTHORITY_WORDS: tuple[tuple[tuple[str, ...], AuthorityDocument], ...] = (
    (
        ("health care power", "healthcare power", "medical power"),
        AuthorityDocument.HEALTH_CARE_POWER_OF_ATTORNEY,
    ),
    (
        ("power of attorney for health", "health care poa", "healthcare poa"),
        AuthorityDocument.HEALTH_CARE_POWER_OF_ATTORNEY,
    ),
    (
        (
            "health care directive",
            "healthcare directive",
            "advance directive",
            "health care agent",
            "health care proxy",
        ),
        AuthorityDocument.HEALTH_CARE_DIRECTIVE,
    ),
    (("financial", "property", "finances"), AuthorityDocument.FINANCIAL_POWER_OF_ATTORNEY),
    (("guardianship", "guardian"), AuthorityDocument.LETTERS_OF_GUARDIANSHIP),
    (("conservator",), AuthorityDocument.LETTERS_OF_CONSERVATORSHIP),
    (("birth certificate",), AuthorityDocument.BIRTH_CERTIFICATE),
    (("custody",), AuthorityDocument.CUSTODY_ORDER),
    (("testamentary",), AuthorityDocument.LETTERS_TESTAMENTARY),
    (("administration",), AuthorityDocument.LETTERS_OF_ADMINISTRATION),
    (("next of kin", "heirship"), AuthorityDocument.NEXT_OF_KIN_AFFIDAVIT),
    (("power of attorney", "poa"), AuthorityDocument.FINANCIAL_POWER_OF_ATTORNEY),
)


def classify_authority_document(name: str) -> AuthorityDocument:
    """What kind of document a submitted name describes (a plain power of attorney that does
    not say health care is read as financial: it does not make a personal representative)."""
    text = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
    for member in AuthorityDocument:
        if text == member.value.replace("_", " "):
            return member
    for words, kind in _AUTHORITY_WORDS:
        if any(word in text for word in words):
            return kind
    return AuthorityDocument.OTHER


def accepted_authority(role: SignerRole, document: AuthorityDocument) -> bool:
    """Whether the document proves authority for this kind of representative."""
    return document in ACCEPTED_AUTHORITY.get(SignerRole(role), frozenset())


def authority_document_issues(
    role: SignerRole, document: AuthorityDocument | None, field: str = "authority_document"
) -> list[FieldIssue]:
    """A staff member's confirmed document type, judged against the accepted list for the role."""
    if SignerRole(role) == SignerRole.PATIENT:
        return []
    if document is None:
        return [
            issue(
                field,
                "authority_document_required",
                "Confirm which document proves the representative's authority.",
            )
        ]
    if document == AuthorityDocument.FINANCIAL_POWER_OF_ATTORNEY:
        return [
            issue(
                field,
                "financial_poa_not_representative",
                "A financial power of attorney does not make someone a personal representative "
                "for health information.",
            )
        ]
    if not accepted_authority(role, document):
        return [
            issue(
                field,
                "authority_document_not_accepted",
                "This document does not prove authority for this kind of representative.",
            )
        ]
    return []


class CombinedDocument(StrEnum):
    """Another document printed on the same form (the compound-authorization rule)."""

    AUTHORIZATION = "authorization"  # another authorization for non-psychotherapy information
    PSYCHOTHERAPY_NOTES_AUTHORIZATION = "psychotherapy_notes_authorization"
    TREATMENT_CONSENT = "treatment_consent"  # or any other non-authorization document


class Part2Consent(BaseModel):
    """A written consent to disclose substance-use-disorder program records (42 CFR 2.31), as
    staff read it off the form: each element a field of its own, never a word in a description.
    """

    #: the patient's name (2.31(a)(1))
    patient_name: str | None = Field(default=None, max_length=300)
    #: the specific name or general designation of the program or person permitted to disclose
    disclosing_party: str | None = Field(default=None, max_length=300)
    #: the name of each recipient, or a general designation of them (2.31(a)(4))
    recipient: str | None = Field(default=None, max_length=300)
    #: how much and what kind of information, including an explicit description of the
    #: substance use disorder information (2.31(a)(3))
    information_description: str | None = Field(default=None, max_length=2000)
    #: the purpose of the disclosure (2.31(a)(5))
    purpose: str | None = Field(default=None, max_length=1000)
    #: the statement of the right to revoke the consent in writing and how to do so (2.31(a)(6))
    statement_right_to_revoke: bool = False
    #: the date, event or condition on which the consent expires (2.31(a)(7))
    expiration_date: date | None = None
    expiration_event: str | None = Field(default=None, max_length=500)
    #: the signature of the patient or their representative, and the date signed (2.31(a)(8), (9))
    signed: bool = False
    signature_date: date | None = None


def part2_consent_issues(
    consent: Part2Consent, as_of: date, field: str = "authorization.part2_consent"
) -> list[FieldIssue]:
    """Every element of 42 CFR 2.31 the consent lacks, and its expiry on `as_of` (empty: the
    consent may be relied on for substance-use-disorder records)."""
    found: list[FieldIssue] = []
    for name, code, message in (
        ("patient_name", "part2_patient_name_missing", "The Part 2 consent must name the patient."),
        (
            "disclosing_party",
            "part2_discloser_missing",
            "The Part 2 consent must name who may disclose the substance use disorder records "
            "(a specific name or a general designation).",
        ),
        (
            "recipient",
            "part2_recipient_missing",
            "The Part 2 consent must name who receives the records (a name or a general "
            "designation).",
        ),
        (
            "information_description",
            "part2_information_missing",
            "The Part 2 consent must say how much and what kind of substance use disorder "
            "information may be disclosed.",
        ),
        ("purpose", "part2_purpose_missing", "The Part 2 consent must state the purpose."),
    ):
        if _blank(getattr(consent, name)):
            found.append(issue(f"{field}.{name}", code, message))
    if not consent.statement_right_to_revoke:
        found.append(
            issue(
                f"{field}.statement_right_to_revoke",
                "part2_revocation_missing",
                "The Part 2 consent must state the right to revoke it and how to do so.",
            )
        )
    if consent.expiration_date is None and _blank(consent.expiration_event):
        found.append(
            issue(
                f"{field}.expiration_date",
                "part2_expiration_missing",
                "The Part 2 consent must give an expiration date, event or condition.",
            )
        )
    elif consent.expiration_date is not None and consent.expiration_date < as_of:
        found.append(
            issue(
                f"{field}.expiration_date",
                "part2_expired",
                "The Part 2 consent has expired; a new signed consent is needed.",
            )
        )
    if not consent.signed:
        found.append(
            issue(
                f"{field}.signed", "part2_signature_missing", "The Part 2 consent must be signed."
            )
        )
    if consent.signature_date is None:
        found.append(
            issue(
                f"{field}.signature_date",
                "part2_signature_date_missing",
                "The Part 2 consent's signature must be dated.",
            )
        )
    return found


class Authorization(BaseModel):
    """What staff read off a signed third-party authorization form."""

    form_language: Language = Language.EN
    information_description: str | None = Field(default=None, max_length=2000)
    disclosing_party: str | None = Field(default=None, max_length=300)
    recipient: str | None = Field(default=None, max_length=300)
    purpose: str | None = Field(default=None, max_length=1000)
    expiration_date: date | None = None
    expiration_event: str | None = Field(default=None, max_length=500)
    expiration_event_occurred: bool = False
    signed: bool = False
    signature_date: date | None = None
    signer_role: SignerRole = SignerRole.PATIENT
    representative_authority: str | None = Field(default=None, max_length=500)
    authority_documents: list[str] = Field(default_factory=list, max_length=20)
    statement_right_to_revoke: bool = False
    statement_conditioning: bool = False
    statement_redisclosure: bool = False
    known_revoked: bool = False
    known_false_information: bool = False
    covers_psychotherapy_notes: bool = False
    combined_with: list[CombinedDocument] = Field(default_factory=list, max_length=10)
    #: the 42 CFR Part 2 consent on (or with) the form, when it covers substance-use-disorder
    #: program records: without a complete one such records never go (domain.release_safety)
    part2_consent: Part2Consent | None = None


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _core_elements(auth: Authorization) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if _blank(auth.information_description):
        found.append(
            issue(
                "authorization.information_description",
                "description_missing",
                "Describe the information to be released in a specific and meaningful way "
                "(for example, the record types and dates of service).",
            )
        )
    if _blank(auth.disclosing_party):
        found.append(
            issue(
                "authorization.disclosing_party",
                "discloser_missing",
                "Name the person or organization allowed to release the information.",
            )
        )
    if _blank(auth.recipient):
        found.append(
            issue(
                "authorization.recipient",
                "recipient_missing",
                "Name the person or organization who will receive the information.",
            )
        )
    if _blank(auth.purpose):
        found.append(
            issue(
                "authorization.purpose",
                "purpose_missing",
                "State the purpose of the release ('at the request of the individual' is enough).",
            )
        )
    if auth.expiration_date is None and _blank(auth.expiration_event):
        found.append(
            issue(
                "authorization.expiration_date",
                "expiration_missing",
                "Give an expiration date or an expiration event.",
            )
        )
    return found


def _signature(auth: Authorization, as_of: date) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if not auth.signed:
        found.append(issue("authorization.signed", "signature_missing", "The form must be signed."))
    if auth.signature_date is None:
        found.append(
            issue(
                "authorization.signature_date",
                "signature_date_missing",
                "The signature must be dated.",
            )
        )
    elif auth.signature_date > as_of:
        found.append(
            issue(
                "authorization.signature_date",
                "signature_date_in_future",
                "The signature date is later than the date the form was checked.",
            )
        )
    if auth.signer_role != SignerRole.PATIENT:
        if _blank(auth.representative_authority):
            found.append(
                issue(
                    "authorization.representative_authority",
                    "authority_description_missing",
                    "A representative who signs must describe their authority to act for the "
                    "patient.",
                )
            )
        if not auth.authority_documents:
            found.append(
                issue(
                    "authorization.authority_documents",
                    "authority_documents_missing",
                    "Send the legal documents that prove the representative's authority "
                    "(for example, guardianship papers or letters of administration).",
                )
            )
        else:
            kinds = [classify_authority_document(d) for d in auth.authority_documents]
            if not any(accepted_authority(auth.signer_role, k) for k in kinds):
                financial = AuthorityDocument.FINANCIAL_POWER_OF_ATTORNEY in kinds
                found.append(
                    issue(
                        "authorization.authority_documents",
                        "financial_poa_not_representative"
                        if financial
                        else "authority_document_not_accepted",
                        "A financial power of attorney does not make someone a personal "
                        "representative for health information."
                        if financial
                        else "The documents sent do not prove authority for this kind of "
                        "representative.",
                    )
                )
    return found


def _statements(auth: Authorization) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if not auth.statement_right_to_revoke:
        found.append(
            issue(
                "authorization.statement_right_to_revoke",
                "statement_revocation_missing",
                "The form must state the right to revoke it in writing and how to do so.",
            )
        )
    if not auth.statement_conditioning:
        found.append(
            issue(
                "authorization.statement_conditioning",
                "statement_conditioning_missing",
                "The form must state whether treatment or payment may be conditioned on signing.",
            )
        )
    if not auth.statement_redisclosure:
        found.append(
            issue(
                "authorization.statement_redisclosure",
                "statement_redisclosure_missing",
                "The form must state that the recipient may re-disclose the information.",
            )
        )
    return found


def _defects(auth: Authorization, as_of: date) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if auth.expiration_date is not None and auth.expiration_date < as_of:
        found.append(
            issue(
                "authorization.expiration_date",
                "expired",
                "The authorization has expired; a new signed form is needed.",
            )
        )
    if auth.expiration_event_occurred:
        found.append(
            issue(
                "authorization.expiration_event",
                "expiration_event_occurred",
                "The event that ends the authorization has already happened.",
            )
        )
    if auth.known_revoked:
        found.append(
            issue("authorization", "revoked", "The authorization has been revoked in writing.")
        )
    if auth.known_false_information:
        found.append(
            issue(
                "authorization",
                "false_information",
                "The form is known to contain false material information.",
            )
        )
    combined = set(auth.combined_with)
    if auth.covers_psychotherapy_notes:
        if combined - {CombinedDocument.PSYCHOTHERAPY_NOTES_AUTHORIZATION}:
            found.append(
                issue(
                    "authorization.combined_with",
                    "compound_psychotherapy",
                    "An authorization for psychotherapy notes may only be combined with another "
                    "psychotherapy-notes authorization; a separate form is needed.",
                )
            )
    elif CombinedDocument.PSYCHOTHERAPY_NOTES_AUTHORIZATION in combined:
        found.append(
            issue(
                "authorization.combined_with",
                "compound_psychotherapy",
                "A psychotherapy-notes authorization may not be combined with this form.",
            )
        )
    if CombinedDocument.TREATMENT_CONSENT in combined and not auth.covers_psychotherapy_notes:
        found.append(
            issue(
                "authorization.combined_with",
                "compound_other_document",
                "The authorization may not be combined with a consent or other document; "
                "a stand-alone form is needed.",
            )
        )
    return found


def validate_authorization(auth: Authorization | None, as_of: date) -> list[FieldIssue]:
    """Every reason the authorization cannot be relied on as of `as_of` (empty: valid)."""
    if auth is None:
        return [
            issue(
                "authorization",
                "authorization_missing",
                "A signed Authorization to Release Protected Health Information to a Third "
                "Party is needed for this request.",
            )
        ]
    part2 = part2_consent_issues(auth.part2_consent, as_of) if auth.part2_consent else []
    return (
        _core_elements(auth)
        + _signature(auth, as_of)
        + _statements(auth)
        + _defects(auth, as_of)
        + part2
    )
