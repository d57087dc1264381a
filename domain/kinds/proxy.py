"""Proxy access: a parent for a minor, or a legal representative for an adult (164.502(g))."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.errors import FieldIssue, issue
from domain.kinds.common import CaseSubmission
from domain.types import Site


class ProxyBasis(StrEnum):
    PARENT_OF_MINOR = "parent_of_minor"
    GUARDIAN_OF_MINOR = "guardian_of_minor"
    LEGAL_GUARDIAN = "legal_guardian"  # court-appointed guardian of an adult
    HEALTH_CARE_AGENT = "health_care_agent"  # health care power of attorney
    CONSERVATOR = "conservator"


MINOR_BASES = frozenset({ProxyBasis.PARENT_OF_MINOR, ProxyBasis.GUARDIAN_OF_MINOR})

#: Site policy: the patient's age at which a parent's proxy access to a minor's record ends.
MINOR_PROXY_ENDS_AT_AGE: dict[Site, int] = {
    Site.ARIZONA: 18,
    Site.FLORIDA: 18,
    Site.MINNESOTA: 18,
    Site.WISCONSIN: 18,
}


class AuthorityDocument(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    kind: str = Field(
        min_length=1, max_length=100
    )  # e.g. "birth certificate", "guardianship order"
    ends_on: date | None = None  # for documents with an end date


class ProxyRequest(CaseSubmission):
    kind: str = Field(default="proxy_access", pattern="^proxy_access$")
    basis: ProxyBasis
    documents: list[AuthorityDocument] = Field(default_factory=list, max_length=10)


def birthday(born: date, age: int) -> date:
    """The date someone born on `born` turns `age` (29 February → 28 February)."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return born.replace(year=born.year + age, day=28)


def proxy_rules(req: ProxyRequest, now: datetime) -> list[FieldIssue]:
    """A minor's proxy needs the patient to be a minor; every basis needs a document."""
    found: list[FieldIssue] = []
    age_limit = MINOR_PROXY_ENDS_AT_AGE[req.site]
    if req.basis in MINOR_BASES and birthday(req.patient.date_of_birth, age_limit) <= now.date():
        found.append(
            issue(
                "basis",
                "patient_not_a_minor",
                f"The patient is {age_limit} or older; a parent's "
                "proxy does not apply. A legal representative's documents are needed.",
            )
        )
    if not req.documents:
        found.append(
            issue(
                "documents",
                "missing",
                "Send the documents that prove your authority to act for the patient.",
            )
        )
    if req.received_at > now:
        found.append(issue("received_at", "in_future", "The receipt time cannot be in the future."))
    return found


def proxy_expiry(req: ProxyRequest) -> date | None:
    """When access ends: the minor's birthday at the site's age, or the document's end date."""
    if req.basis in MINOR_BASES:
        return birthday(req.patient.date_of_birth, MINOR_PROXY_ENDS_AT_AGE[req.site])
    ends = [d.ends_on for d in req.documents if d.ends_on]
    return min(ends) if ends else None
