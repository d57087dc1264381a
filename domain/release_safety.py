"""What may leave, decided before anything leaves: pure rules over facts an activity gathered.

A misdirected disclosure (wrong patient, wrong recipient) is the classic release-of-information
breach, so every release is checked here first: the patient on every document matches the
request; the recipient and address match the request and its authorization; only documents
inside the requested dates and record types go; sensitive categories (psychotherapy notes,
42 CFR Part 2 substance-use records, HIV, genetic and mental-health information) go only when
the authorization names them, and only after a specialist reviewed them. A blocking issue stops
the release and sends the request back to a specialist with the reason (codes, never PHI).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.authorization import part2_consent_issues
from domain.release_basis import part2_patient_issues, release_time_issues
from domain.request import RecordRequestSubmission
from domain.types import DeliveryMethod, RequestKind, Site


class SensitiveCategory(StrEnum):
    """Information with its own consent rules (DOMAIN.md "Sensitive information")."""

    PSYCHOTHERAPY_NOTES = "psychotherapy_notes"  # 164.508(a)(2): own authorization
    SUBSTANCE_USE = "substance_use"  # 42 CFR Part 2 program records: Part 2 consent
    HIV = "hiv"  # stricter state rules
    GENETIC = "genetic"
    MENTAL_HEALTH = "mental_health"


#: Words an authorization uses when it names a category (checked on its description).
#: Substance-use-disorder records are never named by words: only by a complete 42 CFR Part 2
#: consent (Authorization.part2_consent, see `named_categories`).
_NAMED_BY = {
    SensitiveCategory.PSYCHOTHERAPY_NOTES: ("psychotherapy",),
    SensitiveCategory.HIV: ("hiv", "aids"),
    SensitiveCategory.GENETIC: ("genetic", "genomic"),
    SensitiveCategory.MENTAL_HEALTH: ("mental health", "behavioral health", "psychiatric"),
}


#: The written statement that must accompany each disclosure made with the patient's Part 2
#: consent: 42 CFR 2.32(a)(1), word for word (85 FR 43037, July 15, 2020). One constant, so a
#: compliance officer who adopts another statement of 2.32(a) changes it here only.
PART2_NOTICE = (
    "This record which has been disclosed to you is protected by federal confidentiality rules "
    "(42 CFR part 2). The federal rules prohibit you from making any further disclosure of this "
    "record unless further disclosure is expressly permitted by the written consent of the "
    "individual whose information is being disclosed in this record or, is otherwise permitted "
    "by 42 CFR part 2. A general authorization for the release of medical or other information "
    "is NOT sufficient for this purpose (see \u00a72.31). The federal rules restrict any use of "
    "the information to investigate or prosecute with regard to a crime any patient with a "
    "substance use disorder, except as provided at \u00a7\u00a72.12(c)(5) and 2.65."
)


class DocumentFacts(BaseModel):
    """What the record source says about one document (PHI: never logged)."""

    document_id: str
    patient_first_name: str
    patient_last_name: str
    patient_date_of_birth: date
    patient_mrn: str | None = None
    record_type: str  # e.g. visit_notes, lab_results, imaging, discharge_summary
    service_date: date | None = None
    title: str = ""
    categories: list[SensitiveCategory] = Field(default_factory=list)
    pages: int = 1


class OutgoingFacts(BaseModel):
    """Where the packet is about to go (from the delivery the workflow asked for)."""

    method: DeliveryMethod
    recipient_name: str
    email: str | None = None
    address_lines: list[str] = Field(default_factory=list)


class SafetyIssue(BaseModel):
    """One reason a release cannot go as it is (a code and plain words; no PHI)."""

    code: str
    message: str
    document_id: str | None = None


class ReleaseDecision(BaseModel):
    """The documents that go, those held back (and why), and what blocks the release."""

    released: list[str] = Field(default_factory=list)
    withheld: dict[str, str] = Field(default_factory=dict)  # document id -> reason code
    blocking: list[SafetyIssue] = Field(default_factory=list)
    sensitive: list[SensitiveCategory] = Field(default_factory=list)  # in the released set

    @property
    def part2(self) -> bool:
        """42 CFR Part 2 records are released: the 2.32 notice goes with them."""
        return SensitiveCategory.SUBSTANCE_USE in self.sensitive

    @property
    def may_release(self) -> bool:
        """Nothing blocks and something is in scope."""
        return not self.blocking and bool(self.released)


def _norm(text: str | None) -> str:
    """Compare names and addresses without case, accents, punctuation or extra spaces."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def part2_consent_holds(sub: RecordRequestSubmission, today: date) -> bool:
    """The authorization carries a 42 CFR 2.31 consent, complete, for this patient and unexpired
    on `today`: substance-use-disorder program records may go (after a specialist's review)."""
    auth = sub.authorization
    if auth is None or auth.part2_consent is None:
        return False
    return not part2_consent_issues(auth.part2_consent, today) and not part2_patient_issues(sub)


def named_categories(sub: RecordRequestSubmission, today: date) -> set[SensitiveCategory]:
    """Sensitive categories the request's authorization (or record types) names explicitly;
    substance-use-disorder records only by a Part 2 consent that holds on `today`."""
    named: set[SensitiveCategory] = set()
    if part2_consent_holds(sub, today):
        named.add(SensitiveCategory.SUBSTANCE_USE)
    auth = sub.authorization
    text = _norm(auth.information_description if auth else "")
    wanted = {_norm(t) for t in sub.records.record_types}
    for category, words in _NAMED_BY.items():
        if _norm(category.value) in wanted or any(f" {w} " in f" {text} " for w in words):
            named.add(category)
    if auth is not None and auth.covers_psychotherapy_notes:
        named.add(SensitiveCategory.PSYCHOTHERAPY_NOTES)
    elif SensitiveCategory.PSYCHOTHERAPY_NOTES in named and auth is not None:
        named.discard(SensitiveCategory.PSYCHOTHERAPY_NOTES)  # only on their own authorization
    return named


def same_patient(sub: RecordRequestSubmission, doc: DocumentFacts) -> bool:
    """The document is about the request's patient (name, date of birth, MRN when both have one)."""
    patient = sub.patient
    if doc.patient_date_of_birth != patient.date_of_birth:
        return False
    if _norm(doc.patient_last_name) != _norm(patient.last_name):
        return False
    if _norm(doc.patient_first_name) != _norm(patient.first_name):
        return False
    return not (patient.mrn and doc.patient_mrn and _norm(patient.mrn) != _norm(doc.patient_mrn))


def in_scope(sub: RecordRequestSubmission, doc: DocumentFacts) -> bool:
    """Inside the requested dates and record types (no types asked: every type)."""
    wanted = sub.records
    if doc.service_date is not None:
        if wanted.date_from and doc.service_date < wanted.date_from:
            return False
        if wanted.date_to and doc.service_date > wanted.date_to:
            return False
    elif wanted.date_from or wanted.date_to:
        return False  # an undated document cannot be shown to fall inside the dates
    types = {_norm(t) for t in wanted.record_types} - {_norm(c.value) for c in SensitiveCategory}
    kind = _norm(doc.record_type)
    # a broad type covers its kinds: "imaging" covers imaging_study and imaging_report
    return not types or any(kind == t or kind.startswith(f"{t} ") for t in types)


def recipient_issues(sub: RecordRequestSubmission, out: OutgoingFacts) -> list[SafetyIssue]:
    """The packet goes to the person, mailbox and address the request (and authorization) name."""
    found: list[SafetyIssue] = []
    if _norm(out.recipient_name) != _norm(sub.recipient_name()):
        found.append(
            SafetyIssue(
                code="recipient_mismatch",
                message="The recipient differs from the one on the request.",
            )
        )
    auth = sub.authorization
    if sub.needs_authorization and auth is not None and auth.recipient:
        named, going = _norm(auth.recipient), _norm(out.recipient_name)
        if not going or (going not in named and named not in going):
            found.append(
                SafetyIssue(
                    code="recipient_not_authorized",
                    message="The authorization names a different recipient.",
                )
            )
    contact = sub.delivery_contact()
    if out.method == DeliveryMethod.EMAIL_LINK:
        if not out.email or _norm(out.email) != _norm(contact.email):
            found.append(
                SafetyIssue(
                    code="email_mismatch",
                    message="The email address differs from the one on the request.",
                )
            )
    else:
        expected = contact.address.lines() if contact.address else []
        if not expected or [_norm(x) for x in out.address_lines] != [_norm(x) for x in expected]:
            found.append(
                SafetyIssue(
                    code="address_mismatch",
                    message="The mailing address differs from the one on the request.",
                )
            )
    return found


def decide_release(
    sub: RecordRequestSubmission,
    docs: list[DocumentFacts],
    out: OutgoingFacts,
    today: date,
    *,
    sensitive_reviewed_by: str | None = None,
    deceased_on: date | None = None,
) -> ReleaseDecision:
    """Which documents go, which stay, and whether anything stops the release.

    `today` is the release date (from workflow time); the release basis is judged again on it:
    expiry, a death recorded since intake (`deceased_on`), the basis of the request's kind."""
    decision = ReleaseDecision(blocking=recipient_issues(sub, out))
    if not docs:  # the source holds nothing for this patient: never invent, never guess
        decision.blocking.insert(
            0,
            SafetyIssue(
                code="no_records_found",
                message="No records were found for this patient in the record source.",
            ),
        )
    auth = sub.authorization
    expires = auth.expiration_date if auth is not None and sub.needs_authorization else None
    if expires is not None and expires < today:
        decision.blocking.append(
            SafetyIssue(
                code="authorization_expired",
                message="The authorization expired before the release date.",
            )
        )
    for problem in release_time_issues(sub, today, deceased_on):
        if problem.code != "expired":  # said above, under its release-time code
            decision.blocking.append(SafetyIssue(code=problem.code, message=problem.message))
    named = named_categories(sub, today)
    sensitive: set[SensitiveCategory] = set()
    for doc in docs:
        if not same_patient(sub, doc):
            decision.blocking.append(
                SafetyIssue(
                    code="patient_mismatch",
                    message="A document belongs to another patient.",
                    document_id=doc.document_id,
                )
            )
            continue
        if not in_scope(sub, doc):
            decision.withheld[doc.document_id] = "out_of_scope"
            continue
        reason = _sensitive_reason(sub, doc, named)
        if reason:
            decision.withheld[doc.document_id] = reason
            continue
        sensitive.update(doc.categories)
        decision.released.append(doc.document_id)
    if sensitive and not sensitive_reviewed_by:
        decision.blocking.append(
            SafetyIssue(
                code="sensitive_review_required",
                message="Sensitive information is included: a specialist must review it first.",
            )
        )
    if not decision.released and not decision.blocking:
        decision.blocking.append(
            SafetyIssue(
                code="nothing_in_scope",
                message="No document falls inside the requested dates and record types.",
            )
        )
    decision.sensitive = sorted(sensitive)
    return decision


def _sensitive_reason(
    sub: RecordRequestSubmission, doc: DocumentFacts, named: set[SensitiveCategory]
) -> str | None:
    """Why a sensitive document stays behind, or None when it may go (after review)."""
    for category in doc.categories:
        if sub.under_right_of_access:
            # the right of access excludes psychotherapy notes (164.524(a)(1)(i))
            if category == SensitiveCategory.PSYCHOTHERAPY_NOTES:
                return "psychotherapy_notes_excluded"
        elif category not in named:
            return f"{category.value}_not_authorized"
    return None


class SensitiveReview(BaseModel):
    """A specialist's review of sensitive information before it is released."""

    actor: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=1000)


class QualityCheck(BaseModel):
    """A second specialist confirms the packet before it leaves (the first one approved it)."""

    actor: str = Field(min_length=1, max_length=64)
    right_patient_on_every_page: bool = False
    right_recipient: bool = False
    in_scope: bool = False
    note: str | None = Field(default=None, max_length=1000)

    def unconfirmed(self) -> list[str]:
        """The checks not confirmed (all three are needed)."""
        return [
            name
            for name, done in (
                ("right_patient_on_every_page", self.right_patient_on_every_page),
                ("right_recipient", self.right_recipient),
                ("in_scope", self.in_scope),
            )
            if not done
        ]


#: Which requests need a second specialist's quality check, per site ("*": every kind).
QualityPolicy = dict[Site, frozenset[str]]


def parse_quality_policy(text: str) -> QualityPolicy:
    """'minnesota:third_party,court_order;arizona:*' -> per-site kinds ('' means none)."""
    policy: QualityPolicy = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        site, _, kinds = part.partition(":")
        policy[Site(site.strip())] = frozenset(k.strip() for k in kinds.split(",") if k.strip())
    return policy


def quality_check_required(policy: QualityPolicy, site: Site, kind: RequestKind) -> bool:
    """Whether this site checks this kind of request twice before release."""
    kinds = policy.get(Site(site), frozenset())
    return "*" in kinds or RequestKind(kind).value in kinds
