"""Adoption notification to HIMS Data Integrity: only a complete copy of one of three decrees."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.request import Contact, Patient
from domain.types import Channel, Language, Site


class AdoptionDocument(StrEnum):
    ADOPTION_DECREE = "adoption_decree"  # Adoption Decree / Decree of Adoption
    ORDER_ON_PETITION = "order_on_petition"  # Order on Petition for Adoption
    FINDING_AND_ORDER = "finding_and_order"  # Finding and Order for Judgment and Decree of Adoption
    BIRTH_CERTIFICATE = "birth_certificate"
    CERTIFICATE_OF_ADOPTION = "certificate_of_adoption"  # Certificate/Application of Adoption
    NOTICE_OF_CASE_FILING = "notice_of_case_filing"
    CLERK_OF_COURT_DOCUMENT = "clerk_of_court_document"
    PETITION_FOR_ADOPTION = "petition_for_adoption"
    TERMINATION_OF_PARENTAL_RIGHTS = "termination_of_parental_rights"
    CUSTODY = "custody"
    GUARDIANSHIP = "guardianship"


ACCEPTED: dict[AdoptionDocument, str] = {
    AdoptionDocument.ADOPTION_DECREE: "Adoption Decree / Decree of Adoption",
    AdoptionDocument.ORDER_ON_PETITION: "Order on Petition for Adoption",
    AdoptionDocument.FINDING_AND_ORDER: "Finding and Order for Judgment and Decree of Adoption",
}

#: Each rejected document, with the reason given by name in the rejection notice.
REJECTED: dict[AdoptionDocument, str] = {
    AdoptionDocument.BIRTH_CERTIFICATE: "A birth certificate does not prove an adoption.",
    AdoptionDocument.CERTIFICATE_OF_ADOPTION: (
        "A Certificate or Application of Adoption is not the court's decree."
    ),
    AdoptionDocument.NOTICE_OF_CASE_FILING: (
        "A notice of case filing does not show a final adoption."
    ),
    AdoptionDocument.CLERK_OF_COURT_DOCUMENT: (
        "A document signed only by the Clerk of Court is not the court's decree."
    ),
    AdoptionDocument.PETITION_FOR_ADOPTION: "A Petition for Adoption is a request, not a decision.",
    AdoptionDocument.TERMINATION_OF_PARENTAL_RIGHTS: (
        "A Termination of Parental Rights order does not establish the adoption."
    ),
    AdoptionDocument.CUSTODY: "A custody order does not establish an adoption.",
    AdoptionDocument.GUARDIANSHIP: "A guardianship order does not establish an adoption.",
}


class AdoptiveParent(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    contact: Contact


class AdoptionNotice(BaseModel):
    """Adoptive parents sending the decree so the child's record can be updated."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    kind: str = Field(default="adoption_notice", pattern="^adoption_notice$")
    site: Site
    channel: Channel
    received_at: datetime
    language: Language = Language.EN
    patient: Patient  # the child as currently registered
    parents: list[AdoptiveParent] = Field(min_length=1, max_length=4)
    document_type: AdoptionDocument
    pages_received: int = Field(ge=1, le=500)


def document_decision(document: AdoptionDocument) -> tuple[bool, str]:
    """(accepted, reason): why a document can or cannot be used."""
    if document in ACCEPTED:
        return True, f"{ACCEPTED[document]} is an accepted document."
    return False, REJECTED[document]
