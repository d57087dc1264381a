"""Grounds for denying access (164.524(a)) and for refusing a third-party release.

Each basis says whether the denial can be reviewed by a licensed professional (164.524(a)(3))
so the denial letter states the review right only where it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
