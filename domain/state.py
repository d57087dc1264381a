"""The state a request's workflow holds, and the guards that say which staff action is allowed.

The workflow's Update validators call these guards, so a refused action's reason is the same
wherever it is shown (CLI, web page, API).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.errors import FieldIssue, issue
from domain.fees import FeeQuote
from domain.request import RecordRequestSubmission
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
    if state.fee_due_cents:
        problems.append(issue("payment", "fee_unpaid", "The quoted fee has not been paid."))
    return problems


def waiting_status(state: RequestState) -> Status:
    """The stage an open request is in, from what it still waits for."""
    if state.release_blocked:
        return Status.DEFICIENT
    if not state.verified:
        return Status.AWAITING_VERIFICATION
    if state.fee_due_cents:
        return Status.AWAITING_PAYMENT
    return Status.READY_TO_RELEASE
