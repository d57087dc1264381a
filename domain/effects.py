"""Inputs and results of the side effects a workflow asks for (executed by `activities/`).

Each carries a `key` built from the request id and the step, which is what makes a retried
activity safe: the same key never sends, ships, charges or discloses twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.notices import Notice
from domain.request import RecordRequestSubmission
from domain.state import RequestState
from domain.types import DeliveryMethod, DisclosureCategory


class StartRequest(BaseModel):
    """What a RecordRequestWorkflow starts with (already stored and validated at intake)."""

    request_id: str
    tracking_number: str
    submission: RecordRequestSubmission


class AuditEvent(BaseModel):
    """One append-only audit row."""

    key: str
    at: datetime
    actor: str
    action: str
    from_status: str | None = None
    to_status: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Projection(BaseModel):
    """The request's current state for the read model, plus the event that produced it."""

    state: RequestState
    version: int
    event: AuditEvent


class NoticeToSend(BaseModel):
    key: str
    request_id: str
    notice: Notice


class Delivery(BaseModel):
    """Records to deliver by one method."""

    key: str
    request_id: str
    tracking_number: str
    method: DeliveryMethod
    recipient_name: str
    email: str | None = None
    address_lines: list[str] = Field(default_factory=list)
    description: str


class DeliveryReceipt(BaseModel):
    key: str
    method: DeliveryMethod
    reference: str  # outbox path, message id or job id (no PHI)


class DisclosureRecord(BaseModel):
    key: str
    request_id: str
    disclosed_at: datetime
    disclosed_by: str
    recipient_name: str
    recipient_address: str | None
    description: str
    purpose: str
    method: DeliveryMethod
    category: DisclosureCategory
    authorization_ref: str | None


class StaffNotification(BaseModel):
    key: str
    request_id: str
    audience: str
    kind: str
    at: datetime


class RequestOutcome(BaseModel):
    """What a finished workflow returns."""

    request_id: str
    status: str
    disclosures: int
    breached: bool
