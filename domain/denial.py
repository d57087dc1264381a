"""Grounds for denying access (164.524(a)) and for refusing a third-party release.

Each basis says whether the denial can be reviewed by a licensed professional (164.524(a)(3))
so the denial letter states the review right only where it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel


class DenialBasis(StrEnum):
    PSYCHOTHERAPY_NOTES = "psychotherapy_notes"
    LEGAL_PROCEEDINGS = "legal_proceedings"
    CORRECTIONAL_INMATE = "correctional_inmate"
    RESEARCH_SUSPENDED = "research_suspended"
    PRIVACY_ACT = "privacy_act"
    CONFIDENTIAL_SOURCE = "confidential_source"
    ENDANGERMENT = "endangerment"
    REFERENCES_OTHER_PERSON = "references_other_person"
    REPRESENTATIVE_ENDANGERMENT = "representative_endangerment"
    NOT_HELD = "not_held"  # the hospital does not have it: say where it is if known
    AUTHORIZATION_NOT_VALID = "authorization_not_valid"  # third party only


@dataclass(frozen=True)
class DenialGround:
    basis: DenialBasis
    citation: str
    reviewable: bool
    plain_language: str


DENIAL_GROUNDS: dict[DenialBasis, DenialGround] = {
    g.basis: g
    for g in (
        DenialGround(
            DenialBasis.PSYCHOTHERAPY_NOTES,
            "45 CFR 164.524(a)(1)(i)",
            False,
            "The request is for psychotherapy notes, which are not part of the right of access.",
        ),
        DenialGround(
            DenialBasis.LEGAL_PROCEEDINGS,
            "45 CFR 164.524(a)(1)(ii)",
            False,
            "The information was compiled in reasonable anticipation of, or for use in, a legal "
            "proceeding.",
        ),
        DenialGround(
            DenialBasis.CORRECTIONAL_INMATE,
            "45 CFR 164.524(a)(2)(ii)",
            False,
            "A copy would put at risk the health, safety, security or custody of an inmate or "
            "others at a correctional institution.",
        ),
        DenialGround(
            DenialBasis.RESEARCH_SUSPENDED,
            "45 CFR 164.524(a)(2)(iii)",
            False,
            "Access is suspended while a research study you agreed to is in progress.",
        ),
        DenialGround(
            DenialBasis.PRIVACY_ACT,
            "45 CFR 164.524(a)(2)(iv)",
            False,
            "The records are covered by the Privacy Act, which allows this denial.",
        ),
        DenialGround(
            DenialBasis.CONFIDENTIAL_SOURCE,
            "45 CFR 164.524(a)(2)(v)",
            False,
            "The information was obtained from someone other than a health care provider under "
            "a promise of confidentiality, and access would likely reveal that source.",
        ),
        DenialGround(
            DenialBasis.ENDANGERMENT,
            "45 CFR 164.524(a)(3)(i)",
            True,
            "A licensed health care professional has determined that access is reasonably likely "
            "to endanger the life or physical safety of you or another person.",
        ),
        DenialGround(
            DenialBasis.REFERENCES_OTHER_PERSON,
            "45 CFR 164.524(a)(3)(ii)",
            True,
            "The information refers to another person, and a licensed health care professional "
            "has determined that access is reasonably likely to cause that person substantial "
            "harm.",
        ),
        DenialGround(
            DenialBasis.REPRESENTATIVE_ENDANGERMENT,
            "45 CFR 164.524(a)(3)(iii)",
            True,
            "A licensed health care professional has determined that access by the personal "
            "representative is reasonably likely to cause substantial harm.",
        ),
        DenialGround(
            DenialBasis.NOT_HELD,
            "45 CFR 164.524(d)(3)",
            False,
            "We do not hold the information you asked for; where we know who does, we tell you.",
        ),
        DenialGround(
            DenialBasis.AUTHORIZATION_NOT_VALID,
            "45 CFR 164.508(b)(2)",
            False,
            "The authorization we received cannot be relied on, so nothing can be released under "
            "it.",
        ),
    )
}


def denial_ground(basis: DenialBasis) -> DenialGround:
    """The citation, review right and plain-language text of a basis."""
    return DENIAL_GROUNDS[DenialBasis(basis)]


# ---- review of a denial on a reviewable ground (164.524(a)(3), (a)(4), (d)(4)) ---------------

#: Site policy: the reviewing professional decides within this many calendar days of the
#: patient's request for review ("within a reasonable period of time", 164.524(d)(4)); past it,
#: the site's supervisors are told.
REVIEW_DECISION_DAYS = 30
#: Site policy: how long a reviewable denial stays open to a request for review before the
#: workflow ends (the law sets no limit; a later request is taken as a new request for access).
REVIEW_REQUEST_WINDOW_DAYS = 365


class ReviewDecision(StrEnum):
    UPHOLD = "uphold"  # the denial stands: the patient is told in writing, with complaint routes
    REVERSE = "reverse"  # access is granted: the records are released


class DenialReview(BaseModel):
    """A reviewable denial and its review by another licensed health care professional."""

    basis: DenialBasis
    denied_by: str  # the staff account that recorded the denial
    professional: str | None = None  # the licensed professional who made the determination
    denied_at: datetime
    requested_at: datetime | None = None  # the patient asked for a review
    requested_by: str | None = None  # the staff account that recorded the request
    due_at: datetime | None = None  # the reviewer's decision is due (REVIEW_DECISION_DAYS)
    reviewer: str | None = None  # the reviewing licensed health care professional
    assigned_by: str | None = None
    decision: ReviewDecision | None = None
    decided_at: datetime | None = None
    explanation: str = ""
    overdue: bool = False

    @property
    def window_ends_at(self) -> datetime:
        return self.denied_at + timedelta(days=REVIEW_REQUEST_WINDOW_DAYS)


def review_due(requested_at: datetime) -> datetime:
    """When the reviewer's decision is due."""
    return requested_at + timedelta(days=REVIEW_DECISION_DAYS)


def _person(value: str | None) -> str:
    """A name or account id compared without case, titles' punctuation or extra spaces."""
    return " ".join((value or "").lower().replace(".", " ").replace(",", " ").split())


def took_part_in_denial(review: DenialReview, reviewer: str) -> bool:
    """Whether the proposed reviewer is the one who denied (the account or the professional)."""
    who = _person(reviewer)
    return bool(who) and who in {_person(review.denied_by), _person(review.professional)}
