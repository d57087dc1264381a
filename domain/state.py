"""The state a request's workflow holds, and the guards that say which staff action is allowed.

The workflow's Update validators call these guards, so a refused action's reason is the same
wherever it is shown (CLI, web page, API).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.authorization import (
    ACCEPTED_AUTHORITY,
    AuthorityDocument,
    SignerRole,
    authority_document_issues,
)
from domain.denial import DenialReview, took_part_in_denial
from domain.errors import FieldIssue, issue
from domain.fees import FeeQuote
from domain.request import RecordRequestSubmission, Relationship
from domain.sla import Clock
from domain.types import TERMINAL_STATUSES, Status


class RequestState(BaseModel):
    """Everything the workflow knows about one request (returned by its status query)."""

    request_id: str
    tracking_number: str
    submission: RecordRequestSubmission
    status: Status = Status.RECEIVED
    clock: Clock
    deficiencies: list[FieldIssue] = []
    authorization_valid: bool = False
    verified: bool = False
    verified_by: str | None = None
    #: the representative's authority document staff confirmed, and for which signer role
    authority_document: AuthorityDocument | None = None
    authority_role: SignerRole | None = None
    #: False for requests started before the authority document was judged (164.502(g)):
    #: their verification alone stands, as when they started (workflow.patched)
    judges_authority: bool = True
    fee: FeeQuote = FeeQuote()
    paid_cents: int = 0
    at_risk: bool = False
    legal_risk: bool = False
    breached: bool = False
    sla_fired: list[str] = []
    completion_requested_by: str | None = None
    closed_at: datetime | None = None
    outcome_note: str | None = None
    notes: int = 0
    #: a denial on a reviewable ground, and its review (164.524(a)(4)); None: none offered
    review: DenialReview | None = None

    @property
    def is_open(self) -> bool:
        """Not completed, denied or cancelled."""
        return self.status not in TERMINAL_STATUSES

    @property
    def release_blocked(self) -> bool:
        """No valid basis to release yet (authorization, order, representative...)."""
        if self.deficiencies:
            return True
        return self.submission.needs_authorization and not self.authorization_valid

    @property
    def fee_due_cents(self) -> int:
        """What is still owed."""
        return max(self.fee.total_cents - self.paid_cents, 0)


def _closed(state: RequestState) -> list[FieldIssue]:
    if state.status == Status.DENIAL_REVIEW:
        return [
            issue(
                "status",
                "denial_under_review",
                "The denial is being reviewed by another licensed professional; record the "
                "reviewer's decision first.",
            )
        ]
    if state.is_open and state.status != Status.FULFILLING:
        return []
    return [
        issue(
            "status",
            "request_closed" if not state.is_open else "release_in_progress",
            f"The request is {state.status.value.replace('_', ' ')}; "
            "no further action is possible.",
        )
    ]


def guard_open(state: RequestState) -> list[FieldIssue]:
    """Actions that need the request still open and not mid-release."""
    return _closed(state)


def guard_verify(state: RequestState) -> list[FieldIssue]:
    """Identity can be verified once, while the request is open."""
    problems = _closed(state)
    if not problems and state.verified:
        problems.append(issue("method", "already_verified", "Identity was already verified."))
    return problems


#: Right-of-access requesters who act for the patient, as the signer roles they may be.
_ACCESS_REPRESENTATIVE_ROLES: dict[Relationship, tuple[SignerRole, ...]] = {
    Relationship.PARENT: (SignerRole.PARENT_OF_MINOR,),
    Relationship.LEGAL_REPRESENTATIVE: (
        SignerRole.HEALTH_CARE_AGENT,
        SignerRole.LEGAL_GUARDIAN,
        SignerRole.EXECUTOR,
        SignerRole.ADMINISTRATOR,
    ),
}


def representative_role(sub: RecordRequestSubmission) -> SignerRole | None:
    """The role of the representative whose authority must be confirmed before release, or None
    when the patient acts (or signs) for themselves. An authorization signed by someone other
    than the patient names the role; a right-of-access request by a parent or legal
    representative is judged as the first matching role of that relationship."""
    auth = sub.authorization
    if sub.needs_authorization and auth is not None and auth.signer_role != SignerRole.PATIENT:
        return SignerRole(auth.signer_role)
    if sub.under_right_of_access:
        roles = _ACCESS_REPRESENTATIVE_ROLES.get(Relationship(sub.requester.relationship))
        if roles:
            return roles[0]
    return None


def _access_roles(sub: RecordRequestSubmission) -> tuple[SignerRole, ...]:
    return _ACCESS_REPRESENTATIVE_ROLES.get(Relationship(sub.requester.relationship), ())


def authority_role_for(
    sub: RecordRequestSubmission, document: AuthorityDocument | None
) -> SignerRole | None:
    """The representative role a confirmed document proves for this request (None: none)."""
    role = representative_role(sub)
    if role is None or document is None:
        return role
    if sub.under_right_of_access:
        for candidate in _access_roles(sub):
            if document in ACCEPTED_AUTHORITY[candidate]:
                return candidate
    return role


def guard_authority(
    state: RequestState, document: AuthorityDocument | None, *, required: bool
) -> list[FieldIssue]:
    """A representative's authority document, confirmed by staff, must be one the accepted list
    names for that relationship (164.502(g)); a financial power of attorney never is."""
    sub = state.submission
    role = authority_role_for(sub, document)
    if role is None:
        return []
    if document is None and not required:
        return []
    return authority_document_issues(role, document)


def authority_confirmed(state: RequestState) -> bool:
    """Whether the authority of whoever signed (or asks) for the patient has been confirmed."""
    sub = state.submission
    role = representative_role(sub)
    if role is None or not state.judges_authority:
        return True
    if sub.under_right_of_access:
        return state.verified  # verification checks the representative (authority_confirmed)
    return (
        state.authority_document is not None
        and state.authority_role == role
        and not authority_document_issues(role, state.authority_document)
    )


def guard_correct_authorization(state: RequestState) -> list[FieldIssue]:
    """A corrected authorization only makes sense on a request that needs one."""
    problems = _closed(state)
    if not problems and not state.submission.needs_authorization:
        problems.append(
            issue(
                "authorization",
                "not_needed",
                "This is the patient's own request; no authorization is needed.",
            )
        )
    return problems


def guard_payment(state: RequestState, amount_cents: int) -> list[FieldIssue]:
    """A payment must match what is owed."""
    problems = _closed(state)
    if problems:
        return problems
    if state.fee_due_cents == 0:
        return [issue("amount_cents", "nothing_owed", "No fee is owed on this request.")]
    if amount_cents != state.fee_due_cents:
        return [
            issue(
                "amount_cents",
                "amount_mismatch",
                f"The amount owed is {state.fee_due_cents / 100:.2f} USD.",
            )
        ]
    return []


def guard_complete(state: RequestState) -> list[FieldIssue]:
    """Nothing is released before a valid authorization, verification and payment."""
    problems = _closed(state)
    if problems:
        return problems
    if state.release_blocked:
        problems.append(
            issue("authorization", "authorization_not_valid", "The authorization is not valid yet.")
        )
    if not state.verified:
        problems.append(
            issue("verification", "not_verified", "Verify identity and authority before release.")
        )
    elif not authority_confirmed(state):
        problems.append(
            issue(
                "authority_document",
                "authority_not_confirmed",
                "Confirm the representative's authority document before release.",
            )
        )
    if state.fee_due_cents:
        problems.append(issue("payment", "fee_unpaid", "The quoted fee has not been paid."))
    return problems


def waiting_status(state: RequestState) -> Status:
    """The stage an open request is in, from what it still waits for."""
    if state.release_blocked:
        return Status.DEFICIENT
    if not state.verified or not authority_confirmed(state):
        return Status.AWAITING_VERIFICATION
    if state.fee_due_cents:
        return Status.AWAITING_PAYMENT
    return Status.READY_TO_RELEASE


# ---- review of a denial (164.524(a)(4)) -----------------------------------------------------


def guard_request_review(state: RequestState) -> list[FieldIssue]:
    """The patient may ask for a review of a denial on a reviewable ground, once."""
    review = state.review
    if review is None:
        if state.status == Status.DENIED:
            return [
                issue(
                    "status",
                    "denial_not_reviewable",
                    "This denial's ground is not open to review (45 CFR 164.524(a)(1)-(2)).",
                )
            ]
        return [issue("status", "not_denied", "Only a denied request can be reviewed.")]
    if review.requested_at is not None:
        return [issue("status", "review_already_requested", "A review was already requested.")]
    if state.status != Status.DENIED:
        return [issue("status", "not_denied", "Only a denied request can be reviewed.")]
    return []


def _reviewing(state: RequestState) -> list[FieldIssue]:
    review = state.review
    if state.status != Status.DENIAL_REVIEW or review is None or review.requested_at is None:
        return [
            issue(
                "status",
                "no_review_requested",
                "The patient has not asked for a review of a denial on this request.",
            )
        ]
    if review.decision is not None:
        return [issue("status", "review_decided", "The review was already decided.")]
    return []


def guard_assign_reviewer(
    state: RequestState, reviewer: str | None = None, licensed: bool = True
) -> list[FieldIssue]:
    """The reviewer is a licensed health care professional who did not take part in the
    denial (164.524(a)(4)); None: only whether a reviewer can be assigned now."""
    problems = _reviewing(state)
    if problems or reviewer is None:
        return problems
    assert state.review is not None  # checked by _reviewing
    if not licensed:
        problems.append(
            issue(
                "licensed_professional",
                "reviewer_not_licensed",
                "The reviewer must be a licensed health care professional.",
            )
        )
    if took_part_in_denial(state.review, reviewer):
        problems.append(
            issue(
                "reviewer",
                "reviewer_took_part",
                "The reviewer must not have taken part in the decision to deny.",
            )
        )
    return problems


def guard_decide_review(state: RequestState) -> list[FieldIssue]:
    """The reviewer's decision, once a reviewer is assigned."""
    problems = _reviewing(state)
    if not problems and state.review is not None and state.review.reviewer is None:
        problems.append(
            issue("reviewer", "reviewer_not_assigned", "Assign the reviewing professional first.")
        )
    return problems


def guard_deny(state: RequestState) -> list[FieldIssue]:
    """A denial needs the request open; a denial reversed on review is not made again."""
    problems = _closed(state)
    review = state.review
    if not problems and review is not None and review.decision is not None:
        problems.append(
            issue(
                "basis",
                "denial_reversed_on_review",
                "The reviewing professional reversed the denial; the decision is carried out.",
            )
        )
    return problems
