"""Staff actions on a request, as sent to its workflow (Temporal Updates) by the CLI and web app.

`actor` is the staff member's opaque user id (never a patient detail).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from domain.authorization import AuthorityDocument, Authorization
from domain.denial import DenialBasis, ReviewDecision
from domain.errors import FieldIssue
from domain.kinds.amendment import AmendmentDenialBasis, PersonToNotify
from domain.text import require_storable
from domain.types import DeliveryMethod


class IdentityMethod(StrEnum):
    """How a specialist verified identity (164.514(h))."""

    PORTAL_ACCOUNT = "portal_account"  # signed in to a verified portal account
    PHOTO_ID = "photo_id"  # government photo ID checked
    NOTARIZED_SIGNATURE = "notarized_signature"
    KNOWN_PROVIDER = "known_provider"  # a verified provider organization
    CALLBACK = "callback"  # call-back to the number on file


class _Action(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}
    actor: str = Field(min_length=1, max_length=64)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """A NUL byte in a note would be accepted here and then fail the activity that writes
        the audit row, forever: refuse it with its field instead."""
        return require_storable(value)


class VerifyIdentity(_Action):
    method: IdentityMethod
    authority_confirmed: bool = False  # representative's legal documents checked
    #: the document staff saw that proves a representative's authority (164.502(g)); judged
    #: against the accepted list for the signer's relationship (domain.authorization)
    authority_document: AuthorityDocument | None = None
    note: str | None = Field(default=None, max_length=1000)


class ConfirmAuthority(_Action):
    """Staff confirm the representative's authority document (also after verification)."""

    authority_document: AuthorityDocument
    note: str | None = Field(default=None, max_length=1000)


class MarkDeficient(_Action):
    deficiencies: list[FieldIssue] = Field(min_length=1, max_length=30)


class CorrectAuthorization(_Action):
    authorization: Authorization


class RecordPayment(_Action):
    amount_cents: int = Field(ge=0, le=10_000_00)
    reference: str = Field(min_length=1, max_length=64)


class ChooseDelivery(_Action):
    method: DeliveryMethod


class Deny(_Action):
    basis: DenialBasis
    explanation: str = Field(min_length=1, max_length=2000)
    #: the licensed health care professional who made a 164.524(a)(3) determination (a later
    #: reviewer must be someone else)
    professional: str | None = Field(default=None, max_length=200)


class RequestDenialReview(_Action):
    """The patient asked in writing for a review of a denial on a reviewable ground."""

    note: str | None = Field(default=None, max_length=1000)


class AssignReviewer(_Action):
    """The licensed health care professional who reviews the denial (164.524(a)(4))."""

    reviewer: str = Field(min_length=1, max_length=200)
    licensed_professional: bool = False  # staff confirmed the reviewer is licensed


class DecideReview(_Action):
    """The reviewing professional's decision, carried out at once (164.524(d)(4))."""

    decision: ReviewDecision
    explanation: str = Field(min_length=1, max_length=2000)


class Cancel(_Action):
    reason: str = Field(min_length=1, max_length=1000)


class Extend(_Action):
    reason: str = Field(min_length=1, max_length=1000)
    new_due_date: date


class Complete(_Action):
    note: str | None = Field(default=None, max_length=1000)


class ConfirmFormat(_Action):
    """Staff produced the copy in the other format agreed with the patient (164.524(c)(2))."""

    note: str | None = Field(default=None, max_length=1000)


class AddNote(_Action):
    text: str = Field(min_length=1, max_length=4000)


class ActionResult(BaseModel):
    """What an accepted action returns: the request's stage afterwards."""

    request_id: str
    status: str
    message: str


# ---- later request kinds ------------------------------------------------------------------


class AcceptAmendment(_Action):
    amendment_text: str = Field(min_length=1, max_length=4000)
    known_holders: list[PersonToNotify] = Field(default_factory=list, max_length=20)


class DenyAmendment(_Action):
    basis: AmendmentDenialBasis
    explanation: str = Field(min_length=1, max_length=2000)


class FileStatement(_Action):
    """A statement of disagreement (patient) or a rebuttal (hospital)."""

    text: str = Field(min_length=1, max_length=4000)


class ProxyDecision(_Action):
    approve: bool
    documents_verified: bool = False
    reason: str | None = Field(default=None, max_length=1000)


class Answer(_Action):
    text: str = Field(min_length=1, max_length=4000)


class ConfirmUpdate(_Action):
    """Data Integrity confirms the notification (and, for adoption, that the copy is complete)."""

    complete_copy: bool = True
    note: str | None = Field(default=None, max_length=1000)


class FeeResponse(_Action):
    accept: bool
    payment_reference: str | None = Field(default=None, max_length=64)
