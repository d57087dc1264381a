"""Inputs and results of the side effects a workflow asks for (executed by `activities/`).

Each carries a `key` built from the request id and the step, which is what makes a retried
activity safe: the same key never sends, ships, charges or discloses twice.
"""

from __future__ import annotations

from datetime import date, datetime
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
    patient_deceased_on: date | None = None  # from Data Integrity's records at intake


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
    patient_key: str | None = None  # to attach amendments linked to the record
    # issue 7: what the channels need to pick, check and send the records
    submission: RecordRequestSubmission | None = None
    workflow_id: str | None = None
    fee_paid_cents: int = 0
    sensitive_reviewed_by: str | None = None  # a specialist reviewed sensitive information
    quality_checked_by: str | None = None  # the second specialist who confirmed the packet
    amendments: list[dict[str, str | None]] = Field(default_factory=list)  # travel with it
    #: the release date in the site's time, from workflow time (issue 15): the channels judge
    #: expiry against it, never the wall clock (None: recorded before, the channel's own date)
    release_on: date | None = None
    #: the fee quoted for this release: nothing leaves until it is paid (None: before issue 15)
    fee_quoted_cents: int | None = None
    #: another agreed format: the specialist who confirmed they produced it (issue 15)
    format_produced_by: str | None = None


class DeliveryReceipt(BaseModel):
    key: str
    method: DeliveryMethod
    reference: str  # outbox path, message id or job id (no PHI)
    queued: bool = False  # waits for the site's batch (a BatchFulfilled signal follows)
    carrier_tracking_number: str | None = None
    documents: int | None = None  # documents released
    withheld: int | None = None  # documents held back (out of scope, sensitive not authorized)


class ReleaseHold(BaseModel):
    """A release stopped before anything left: back to a specialist with the reasons."""

    request_id: str
    batch_id: str | None = None
    codes: list[str]
    messages: list[str] = Field(default_factory=list)


class ShipmentQuery(BaseModel):
    key: str
    request_id: str
    tracking_number: str


class ShipmentStatus(BaseModel):
    tracking_number: str
    status: str  # label_created, in_transit, delivered, exception
    delivered_at: datetime | None = None
    detail: str | None = None


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
    patient_key: str | None = None
    #: the form and format released, and how it was sent when not protected (164.524(c)(2)):
    #: e.g. "FHIR Bundle (JSON)", "unencrypted email at the patient's request (...)"
    electronic_format: str | None = None
    transmission: str | None = None


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


class BatchFulfilled(BaseModel):
    """Signal from a site's batch run to one request's workflow: what was sent, and how.

    Sent exactly once per request per batch; the request workflow ignores a repeat of the
    same `batch_id` (a re-run batch never makes a request release twice).
    """

    batch_id: str
    request_id: str
    method: DeliveryMethod
    reference: str  # batch PDF page range, ISO image id, or carrier tracking number (no PHI)
    sent_at: datetime
    carrier_tracking_number: str | None = None
    pages: int | None = None


class CaseProjection(BaseModel):
    """A case's state for the read model, plus the event that produced it."""

    state: (
        Any  # domain.kinds.case.CaseState (Any avoids an import cycle; validated by the activity)
    )
    version: int
    event: AuditEvent


class PageCountQuery(BaseModel):
    """How many pages the record source holds in scope for this request (for a quote)."""

    request_id: str
    submission: RecordRequestSubmission


class ReleaseFactsQuery(BaseModel):
    """What the workflow asks the store right before it releases (issue 15)."""

    request_id: str
    patient_key: str


class ReleaseFacts(BaseModel):
    """Facts recorded elsewhere that change whether a release may go: a death Data Integrity
    recorded after intake, a revocation recorded against the authorization."""

    deceased_on: date | None = None
    authorization_revoked: bool = False


class ReleaseStart(BaseModel):
    """Claim the right to release under an authorization (refused once it is revoked)."""

    request_id: str
    authorization_ref: str
    at: datetime


class RevocationApply(BaseModel):
    revocation_request_id: str
    patient_key: str
    tracking_numbers: list[str]
    at: datetime


class RevokedAuthorization(BaseModel):
    """What a revocation did to one authorization."""

    tracking_number: str
    request_id: str | None  # None: no such request for this patient
    released_before: bool  # a release had already started: it stands (done in reliance)


class RegistryUpdate(BaseModel):
    key: str
    request_id: str
    patient_key: str
    deceased_on: date | None = None
    adoption: bool = False
    at: datetime


class AmendmentOutcome(BaseModel):
    request_id: str
    patient_key: str
    outcome: str
    record_description: str
    amendment_text: str | None = None
    denial_basis: str | None = None
    disagreement: str | None = None
    rebuttal: str | None = None
    at: datetime


class ProxyChange(BaseModel):
    key: str
    request_id: str
    patient_key: str
    proxy_name: str
    basis: str
    grant: bool  # True: grant access; False: end it
    expires_on: date | None = None
    reason: str | None = None
    at: datetime


class HandOff(BaseModel):
    """Routing a case to another office (billing) through its interface."""

    key: str
    request_id: str
    office: str
    summary: str


class AccountingQuery(BaseModel):
    patient_key: str
    request_id: str
    received_at: datetime
    #: the site's date the accounting is compiled on (workflow time): disclosures an agency's
    #: suspension (164.528(a)(2)) still covers on that date are left out (None: before it)
    compiled_on: date | None = None
