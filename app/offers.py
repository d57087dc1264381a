"""Which actions the request page offers: only those the workflow would accept now.

Each action is asked of the same domain guards its Update's validator calls (domain.state for
a records request, domain.kinds.case for the other kinds, domain.sla for an extension); where a
validator adds a check of its own (a fee already paid, a statement already filed) it is
repeated here, next to the guard, with the validator it mirrors. An action the workflow would
refuse whatever the form says is not offered; one it refuses only for what the form says
(a wrong amount, an empty reason) is, and its refusal shows next to the field.

When the workflow cannot be asked (Temporal unreachable), the stage in the read model decides
(forms.specs_for), as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app import forms
from app.detail import LiveState
from domain.errors import FieldIssue
from domain.kinds.case import CaseState, guard_case_open, guard_case_status
from domain.sla import Clock, check_extension
from domain.state import (
    RequestState,
    authority_confirmed,
    guard_assign_reviewer,
    guard_complete,
    guard_correct_authorization,
    guard_decide_review,
    guard_deny,
    guard_open,
    guard_payment,
    guard_request_review,
    guard_verify,
    representative_role,
)
from domain.types import RequestKind, Status

LEGAL_KINDS = frozenset({RequestKind.COURT_ORDER.value, RequestKind.SUBPOENA.value})


@dataclass(frozen=True)
class Offer:
    """The actions to show, and why the main ones are not (plain words from the guards)."""

    specs: list[forms.ActionSpec]
    blocked: dict[str, list[str]]  # action name -> the guard's messages


def _extension(clock: Clock, now: datetime) -> list[FieldIssue]:
    """Whether any extension could still be accepted (the date and reason are the form's)."""
    probe = clock.original_due_date + timedelta(days=1)
    return [
        p
        for p in check_extension(clock, now, probe, "reason")
        if p.code in ("extension_already_taken", "extension_too_late")
    ]


def _record_guards(
    state: RequestState, hold: frozenset[str], now: datetime
) -> dict[str, Callable[[], list[FieldIssue]]]:
    def delivery() -> list[FieldIssue]:  # RecordRequestWorkflow._validate_choose_delivery
        found = guard_open(state)
        if not found and state.paid_cents:
            found.append(
                FieldIssue(
                    field="method",
                    code="already_paid",
                    message="A fee was already paid; refund it before changing delivery.",
                )
            )
        return found

    def authority() -> list[FieldIssue]:  # RecordRequestWorkflow._validate_confirm_authority
        found = guard_open(state)
        waiting = (
            state.verified
            and representative_role(state.submission) is not None
            and not authority_confirmed(state)
        )
        if not found and not waiting:  # before verification, the verify form asks for it
            found.append(
                FieldIssue(
                    field="authority_document",
                    code="nothing_to_confirm",
                    message="No representative's authority is waiting to be confirmed.",
                )
            )
        return found

    def held_for(code: str, guard: list[FieldIssue]) -> list[FieldIssue]:
        if code in hold:
            return guard
        return [FieldIssue(field="status", code="not_held", message="The release is not held.")]

    return {
        "verify": lambda: guard_verify(state),
        "confirm_authority": authority,
        "complete": lambda: guard_complete(state),
        "mark_deficient": lambda: guard_correct_authorization(state),
        "correct_authorization": lambda: guard_correct_authorization(state),
        "record_payment": lambda: guard_payment(state, state.fee_due_cents),
        "choose_delivery": delivery,
        "extend": lambda: guard_open(state) or _extension(state.clock, now),
        "deny": lambda: guard_deny(state),
        # a denial on a reviewable ground: the patient's request, the reviewer, the decision
        "request_review": lambda: guard_request_review(state),
        "assign_reviewer": lambda: guard_assign_reviewer(state),
        "decide_review": lambda: guard_decide_review(state),
        "cancel": lambda: guard_open(state),
        # the workflow takes a note at any stage while it runs (no validator), not once closed
        "add_note": lambda: [] if state.is_open else guard_open(state),
        "review_sensitive": lambda: held_for("sensitive_review_required", guard_open(state)),
        "confirm_quality": lambda: held_for("quality_check_required", guard_complete(state)),
        "confirm_format": lambda: held_for("other_format_to_produce", guard_complete(state)),
    }


def _case_guards(state: CaseState, now: datetime) -> dict[str, Callable[[], list[FieldIssue]]]:
    def stage(*allowed: Status) -> Callable[[], list[FieldIssue]]:
        return lambda: guard_case_status(state, *allowed)

    def disagreement() -> list[FieldIssue]:  # AmendmentWorkflow._validate_disagreement
        found = guard_case_status(state, Status.AWAITING_DISAGREEMENT)
        if not found and state.outcome.disagreement is not None:
            found.append(
                FieldIssue(
                    field="text",
                    code="already_filed",
                    message="A statement of disagreement is already filed.",
                )
            )
        return found

    def rebuttal() -> list[FieldIssue]:  # AmendmentWorkflow._validate_rebuttal
        found = guard_case_status(state, Status.AWAITING_DISAGREEMENT)
        if not found and state.outcome.disagreement is None:
            found.append(
                FieldIssue(
                    field="text",
                    code="no_disagreement",
                    message="There is no statement of disagreement to rebut.",
                )
            )
        return found

    under_review = stage(Status.UNDER_REVIEW)
    return {
        "amendment_accept": under_review,
        "amendment_deny": under_review,
        "amendment_disagreement": disagreement,
        "amendment_rebuttal": rebuttal,
        "proxy_decide": under_review,
        "proxy_revoke": stage(Status.ACTIVE),
        "billing_answer": under_review,
        "integrity_confirm": under_review,
        "accounting_fee": stage(Status.AWAITING_REQUESTER),
        "accounting_complete": under_review,
        "extend": lambda: guard_case_open(state) or _extension(state.clock, now),
        "cancel": lambda: guard_case_open(state),
        "add_note": lambda: guard_case_open(state),
    }


def _plain(kind: str, found: FieldIssue) -> str:
    """The guard's words, naming the court's document where there is no authorization."""
    if found.code == "authorization_not_valid" and kind in LEGAL_KINDS:
        return "The court order or subpoena is not a sufficient basis yet (see its checks)."
    return found.message


def offered(kind: str, status: str, live: LiveState, hold: frozenset[str], now: datetime) -> Offer:
    """The actions the workflow would accept now, by its own guards."""
    candidates = [s for s in forms.SPECS if kind in s.kinds]
    if live.record is not None:
        guards = _record_guards(live.record, hold, now)
    elif live.case is not None:
        guards = _case_guards(live.case, now)
    else:
        return Offer(forms.specs_for(kind, status, hold), {})
    specs: list[forms.ActionSpec] = []
    blocked: dict[str, list[str]] = {}
    for spec in candidates:
        guard = guards.get(spec.name)
        problems = guard() if guard is not None else []
        if problems:
            blocked[spec.name] = [_plain(kind, p) for p in problems]
        else:
            specs.append(spec)
    return Offer(specs, blocked)
