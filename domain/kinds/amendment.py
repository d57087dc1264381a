"""Amendment of the record (45 CFR 164.526): 60 days, one 30-day extension, accept or deny."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.kinds.common import CaseSubmission


class AmendmentDenialBasis(StrEnum):
    """The only four grounds 164.526(a)(2) allows."""

    NOT_CREATED_HERE = "not_created_here"
    NOT_IN_DESIGNATED_RECORD_SET = "not_in_designated_record_set"
    NOT_OPEN_TO_ACCESS = "not_open_to_access"
    ACCURATE_AND_COMPLETE = "accurate_and_complete"


@dataclass(frozen=True)
class AmendmentGround:
    basis: AmendmentDenialBasis
    citation: str
    plain_language: str


AMENDMENT_GROUNDS: dict[AmendmentDenialBasis, AmendmentGround] = {
    g.basis: g
    for g in (
        AmendmentGround(
            AmendmentDenialBasis.NOT_CREATED_HERE,
            "45 CFR 164.526(a)(2)(i)",
            "We did not create this information, and the person who did is available to act on "
            "your request.",
        ),
        AmendmentGround(
            AmendmentDenialBasis.NOT_IN_DESIGNATED_RECORD_SET,
            "45 CFR 164.526(a)(2)(ii)",
            "The information is not part of the records we use to make decisions about you.",
        ),
        AmendmentGround(
            AmendmentDenialBasis.NOT_OPEN_TO_ACCESS,
            "45 CFR 164.526(a)(2)(iii)",
            "The information is not available to you for inspection under the law.",
        ),
        AmendmentGround(
            AmendmentDenialBasis.ACCURATE_AND_COMPLETE,
            "45 CFR 164.526(a)(2)(iv)",
            "We reviewed the information and found it accurate and complete.",
        ),
    )
}


class PersonToNotify(BaseModel):
    """Someone the patient names, or a known holder, who must be told of an accepted amendment."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    name: str = Field(min_length=1, max_length=200)
    address_lines: list[str] = Field(default_factory=list, max_length=6)
    email: str | None = Field(default=None, max_length=320)


class AmendmentRequest(CaseSubmission):
    """What the patient believes is wrong, where, and why."""

    kind: str = Field(default="amendment", pattern="^amendment$")
    record_description: str = Field(min_length=1, max_length=1000)
    date_of_service: date | None = None
    requested_change: str = Field(min_length=1, max_length=4000)
    reason: str = Field(min_length=1, max_length=4000)
    notify: list[PersonToNotify] = Field(default_factory=list, max_length=20)


class DisagreementWindow:
    """Site policy: how long a denied request waits for a statement of disagreement."""

    DAYS = 90
