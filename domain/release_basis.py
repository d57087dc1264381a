"""Whether the hospital may release a request's records to its recipient, and if not, why.

Right of access: nothing to check here (identity is verified by a specialist). Otherwise the
basis depends on the kind: a valid 164.508 authorization; a continuity-of-care request needs
none (164.506) unless the site's state law requires the patient's consent (Minnesota Health
Records Act); a court order suffices if signed by a judge; a subpoena needs a valid
authorization or the satisfactory assurances of 164.512(e). A deceased patient's records are
released only to the personal representative (executor or administrator) while protected.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from domain.authorization import SignerRole, validate_authorization
from domain.errors import FieldIssue, issue
from domain.kinds.deceased import still_protected
from domain.request import RecordRequestSubmission, Relationship
from domain.types import RequestKind, Site

#: Sites whose state law requires the patient's consent even for a treatment disclosure.
TREATMENT_NEEDS_CONSENT: frozenset[Site] = frozenset({Site.MINNESOTA})

ESTATE_ROLES = frozenset({SignerRole.EXECUTOR, SignerRole.ADMINISTRATOR})

#: Age at which a parent no longer acts for a child as a personal representative.
ADULT_AGE = 18


def _deceased_issues(
    sub: RecordRequestSubmission, deceased_on: date | None, today: date
) -> list[FieldIssue]:
    if deceased_on is None or not still_protected(deceased_on, today):
        return []
    if (
        sub.under_right_of_access
        and sub.requester.relationship != Relationship.LEGAL_REPRESENTATIVE
    ):
        return [
            issue(
                "requester.relationship",
                "personal_representative_required",
                "The patient has died. Records can be released to the executor or administrator "
                "of the estate, with the court papers that appoint them.",
            )
        ]
    auth = sub.authorization
    if auth is not None and not sub.under_right_of_access and auth.signer_role not in ESTATE_ROLES:
        return [
            issue(
                "authorization.signer_role",
                "estate_signature_required",
                "The patient has died: the authorization must be signed by the executor or "
                "administrator of the estate.",
            )
        ]
    return []


def _years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def representative_issues(sub: RecordRequestSubmission, today: date) -> list[FieldIssue]:
    """A parent signs for a minor only: an adult patient signs for themselves (164.502(g)(3))."""
    auth = sub.authorization
    if auth is None or auth.signer_role != SignerRole.PARENT_OF_MINOR:
        return []
    signed_on = auth.signature_date or today
    if _years_between(sub.patient.date_of_birth, signed_on) >= ADULT_AGE:
        return [
            issue(
                "authorization.signer_role",
                "patient_not_a_minor",
                "The patient was an adult when the form was signed: a parent cannot sign for an "
                "adult; the patient (or their legal representative) must sign.",
            )
        ]
    return []


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", folded).split()


def part2_patient_issues(sub: RecordRequestSubmission) -> list[FieldIssue]:
    """A Part 2 consent names this request's patient (42 CFR 2.31(a)(1)): first and last name."""
    auth = sub.authorization
    consent = auth.part2_consent if auth is not None else None
    if consent is None or not consent.patient_name or not consent.patient_name.strip():
        return []  # a missing name is said by domain.authorization.part2_consent_issues
    named = set(_words(consent.patient_name))
    wanted = _words(sub.patient.first_name) + _words(sub.patient.last_name)
    if wanted and all(w in named for w in wanted):
        return []
    return [
        issue(
            "authorization.part2_consent.patient_name",
            "part2_patient_name_mismatch",
            "The Part 2 consent names a different patient from the request.",
        )
    ]


def _legal_issues(sub: RecordRequestSubmission, today: date) -> list[FieldIssue]:
    doc = sub.legal_document
    if doc is None:
        return [issue("legal_document", "missing", "The subpoena or court order is missing.")]
    if sub.kind == RequestKind.COURT_ORDER:
        if not doc.signed_by_judge:
            return [
                issue(
                    "legal_document.signed_by_judge",
                    "not_a_court_order",
                    "A court order must be signed by a judge or magistrate; a subpoena signed by "
                    "a clerk or an attorney is not a court order.",
                )
            ]
        return []
    # a subpoena: a valid authorization, or satisfactory assurances
    if sub.authorization is not None:
        return (
            validate_authorization(sub.authorization, today)
            + representative_issues(sub, today)
            + part2_patient_issues(sub)
        )
    if doc.assurance_patient_notified or doc.assurance_protective_order:
        return []
    return [
        issue(
            "legal_document",
            "subpoena_without_assurances",
            "A subpoena alone is not enough: send the patient's signed authorization, or written "
            "assurance that the patient was notified and did not object in time, or that a "
            "qualified protective order was sought.",
        )
    ]


def release_time_issues(
    sub: RecordRequestSubmission,
    today: date,
    deceased_on: date | None = None,
    *,
    revoked: bool = False,
) -> list[FieldIssue]:
    """Judged again at the moment of release, on the release date (workflow time): a revocation,
    the authorization's expiry, a death recorded since intake and the release basis itself."""
    found: list[FieldIssue] = []
    if revoked and sub.needs_authorization:
        found.append(
            issue("authorization", "revoked", "The authorization has been revoked in writing.")
        )
    if sub.needs_authorization or deceased_on is not None:
        found += release_basis_issues(sub, today, deceased_on)
    return found


def release_basis_issues(
    sub: RecordRequestSubmission, today: date, deceased_on: date | None = None
) -> list[FieldIssue]:
    """Every reason the records cannot be released yet (empty: the basis is sound)."""
    found = _deceased_issues(sub, deceased_on, today)
    if sub.under_right_of_access:
        return found
    if sub.kind in (RequestKind.SUBPOENA, RequestKind.COURT_ORDER):
        return found + _legal_issues(sub, today)
    if sub.kind == RequestKind.CONTINUITY_OF_CARE and sub.site not in TREATMENT_NEEDS_CONSENT:
        return found
    return (
        found
        + validate_authorization(sub.authorization, today)
        + representative_issues(sub, today)
        + part2_patient_issues(sub)
    )
