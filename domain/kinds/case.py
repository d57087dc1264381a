"""State of a non-copy request (a "case") as its workflow holds it, and the guards on it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.errors import FieldIssue, issue
from domain.fees import FeeQuote
from domain.sla import Clock
from domain.types import TERMINAL_STATUSES, Language, RequestKind, Site, Status


class CaseStart(BaseModel):
    """What a case workflow starts with (stored and validated at intake)."""

    request_id: str
    tracking_number: str
    kind: RequestKind
    submission: dict[str, Any]  # the kind's submission model, as validated JSON
    patient_key: str
    patient_name: str
    patient_date_of_birth: date
    requester_name: str
    reply_address: list[str] = Field(default_factory=list)
    reply_email: str | None = None
    site: Site
    language: Language
    received_at: datetime
    team: str


class CaseState(BaseModel):
    """Everything a case workflow knows (returned by its status query, projected to the DB)."""

    start: CaseStart
    status: Status = Status.RECEIVED
    clock: Clock
    deficiencies: list[FieldIssue] = Field(default_factory=list)
    at_risk: bool = False
    legal_risk: bool = False
    breached: bool = False
    sla_fired: list[str] = Field(default_factory=list)
    assignee_decision: str | None = None
    fee: FeeQuote = FeeQuote()
    paid_cents: int = 0
    outcome: dict[str, Any] = Field(default_factory=dict)
    closed_at: datetime | None = None
    notes: int = 0

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES

    @property
    def request_id(self) -> str:
        return self.start.request_id


def guard_case_open(state: CaseState) -> list[FieldIssue]:
    """Most actions need the case open."""
    if state.is_open:
        return []
    return [
        issue(
            "status",
            "request_closed",
            f"The request is {state.status.value.replace('_', ' ')}; "
            "no further action is possible.",
        )
    ]


def guard_case_status(state: CaseState, *allowed: Status) -> list[FieldIssue]:
    """The action belongs to one of these stages only."""
    problems = guard_case_open(state)
    if problems or state.status in allowed:
        return problems
    names = ", ".join(s.value.replace("_", " ") for s in allowed)
    return [
        issue(
            "status",
            "wrong_stage",
            f"This action is for requests that are {names}; this one is "
            f"{state.status.value.replace('_', ' ')}.",
        )
    ]
