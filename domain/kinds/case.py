"""State of a non-copy request (a "case") as its workflow holds it, and the guards on it.

Typed throughout: the start carries the kind's own submission model (told apart by its `kind`),
and the outcome is a model whose JSON is the dict the workflows recorded before it was typed
(only the facts that were set), so histories and read-model rows from before still decode.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    RootModel,
    SerializerFunctionWrapHandler,
    Tag,
    model_serializer,
)

from domain.errors import FieldIssue, issue
from domain.fees import FeeQuote
from domain.kinds.accounting import AccountingRequest
from domain.kinds.adoption import AdoptionNotice
from domain.kinds.amendment import AmendmentDenialBasis, AmendmentRequest, PersonToNotify
from domain.kinds.billing import BillingRequest
from domain.kinds.deceased import DeceasedNotice
from domain.kinds.proxy import ProxyRequest
from domain.kinds.revocation import RevocationRequest
from domain.sla import Clock
from domain.state import RequestState
from domain.types import TERMINAL_STATUSES, Language, RequestKind, Site, Status


def _kind_of(value: Any) -> str | None:
    """A submission's kind: every kind's model has a `kind` field, and every submission
    stored (intake dumps the model) carries it."""
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return None if kind is None else str(kind)


#: The submission of any case kind, validated as that kind's own model.
CaseSubmissionModel = Annotated[
    Annotated[AmendmentRequest, Tag(RequestKind.AMENDMENT.value)]
    | Annotated[RevocationRequest, Tag(RequestKind.REVOCATION.value)]
    | Annotated[ProxyRequest, Tag(RequestKind.PROXY_ACCESS.value)]
    | Annotated[BillingRequest, Tag(RequestKind.BILLING.value)]
    | Annotated[DeceasedNotice, Tag(RequestKind.DECEASED_NOTICE.value)]
    | Annotated[AdoptionNotice, Tag(RequestKind.ADOPTION_NOTICE.value)]
    | Annotated[AccountingRequest, Tag(RequestKind.ACCOUNTING.value)],
    Discriminator(_kind_of),
]

SubmissionT = TypeVar(
    "SubmissionT",
    AmendmentRequest,
    RevocationRequest,
    ProxyRequest,
    BillingRequest,
    DeceasedNotice,
    AdoptionNotice,
    AccountingRequest,
)


class CaseStart(BaseModel):
    """What a case workflow starts with (stored and validated at intake)."""

    request_id: str
    tracking_number: str
    kind: RequestKind
    submission: CaseSubmissionModel  # the kind's submission, as validated at intake
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

    def submission_as(self, model: type[SubmissionT]) -> SubmissionT:
        """The submission as the model the workflow's kind expects (a mismatch is a bug)."""
        if not isinstance(self.submission, model):
            raise TypeError(f"a {self.kind.value} case carries no {model.__name__}")
        return self.submission


class CaseOutcome(BaseModel):
    """What was decided or done on a case; each kind sets its own facts, none is required.

    One model with optional fields rather than one per kind: CaseState is shared by every kind,
    and the outcomes recorded before this was typed are plain dicts that do not name their kind.
    Only the facts that were set are serialized, so its JSON is the dict those histories and
    read-model rows hold (`{}` for a case with none; a fact set to None stays, as null).
    """

    #: any kind: why the requester withdrew
    cancelled_because: str | None = None
    # amendment (164.526)
    amendment_text: str | None = None
    holders: list[PersonToNotify] | None = None  # known holders staff named when accepting
    denial_basis: AmendmentDenialBasis | None = None
    disagreement: str | None = None
    rebuttal: str | None = None
    # revocation (tracking numbers)
    revoked: list[str] | None = None
    unknown: list[str] | None = None
    released_before: list[str] | None = None
    stopped: list[str] | None = None  # revoked and not yet released (revocation-reliance-v1)
    # proxy access
    denied_because: str | None = None
    expires_on: date | None = None
    revoked_because: str | None = None
    ended_because: str | None = None  # expired or revoked
    # adoption notice
    rejected_because: str | None = None
    # accounting of disclosures (164.528)
    entries: int | None = None
    period_start: date | None = None
    period_end: date | None = None

    @model_serializer(mode="wrap")
    def _as_recorded(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if key in self.model_fields_set}


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
    outcome: CaseOutcome = Field(default_factory=CaseOutcome)
    closed_at: datetime | None = None
    notes: int = 0

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES

    @property
    def request_id(self) -> str:
        return self.start.request_id


class AnyState(RootModel[RequestState | CaseState]):
    """The state a request's `status` query answers, whichever workflow holds it: the model
    that validates is the one (a records copy's state has its own request id and submission,
    a case's has its `start`)."""


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
