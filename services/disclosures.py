"""Disclosures made outside this engine (court orders, subpoenas, public health, police),
recorded by staff so the accounting of disclosures is complete.

The CLI (`roi disclosure-record FILE`) names the patient; the web app records one from a
request's page (`DisclosureDetails`), for that request's patient, with an audit row on the
request. Both go through `record_staff_disclosure`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, Field
from ulid import ULID

from domain.effects import DisclosureRecord
from domain.errors import FieldIssue, issue
from domain.patients import patient_key
from domain.types import DeliveryMethod, DisclosureCategory
from store import repository, requests
from store.db import session_scope


class DisclosureDetails(BaseModel):
    """What was disclosed, to whom, why and when (the patient is the request's)."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    disclosed_at: datetime
    recipient_name: str = Field(min_length=1, max_length=320)
    recipient_address: str | None = Field(default=None, max_length=1000)
    description: str = Field(min_length=1, max_length=2000)
    purpose: str = Field(min_length=1, max_length=1000)
    category: DisclosureCategory
    method: DeliveryMethod = DeliveryMethod.US_MAIL


class StaffDisclosure(DisclosureDetails):
    """What a specialist records about a disclosure made by another route (names the patient)."""

    patient_first_name: str = Field(min_length=1, max_length=100)
    patient_last_name: str = Field(min_length=1, max_length=100)
    patient_date_of_birth: date


def staff_disclosure_issues(item: DisclosureDetails, now: datetime) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if item.disclosed_at.tzinfo is None:
        found.append(issue("disclosed_at", "timezone_required", "Give the time zone."))
    elif item.disclosed_at > now:
        found.append(
            issue("disclosed_at", "in_future", "The disclosure date cannot be in the future.")
        )
    return found


class NoSuchRequest(LookupError):
    """The request a disclosure was recorded for does not exist."""


def record_staff_disclosure(
    database_url: str,
    item: DisclosureDetails,
    actor: str,
    *,
    request_id: str | None = None,
) -> str:
    """Log the disclosure (append-only); returns its key.

    With `request_id` (the web app) the disclosure belongs to that request and its patient
    (the request's patient key), and the request's audit trail gets a `disclosure.recorded`
    row (codes only) in the same transaction. Without it, `item` must name the patient.
    """
    key = f"staff-{str(ULID()).lower()}"
    with session_scope(database_url) as session:
        if request_id is not None:
            row = requests.request_row(session, request_id)
            if row is None:
                raise NoSuchRequest(request_id)
            owner, patient = request_id, row.patient_key
        elif isinstance(item, StaffDisclosure):
            owner = key[:32]
            patient = patient_key(
                item.patient_first_name, item.patient_last_name, item.patient_date_of_birth
            )
        else:
            raise ValueError("a disclosure without a request must name the patient")
        record = DisclosureRecord(
            key=key,
            request_id=owner,
            disclosed_at=item.disclosed_at,
            disclosed_by=actor,
            recipient_name=item.recipient_name,
            recipient_address=item.recipient_address,
            description=item.description,
            purpose=item.purpose,
            method=item.method,
            category=item.category,
            authorization_ref=None,
            patient_key=patient,
        )
        repository.record_disclosure(session, record, source="staff")
        if request_id is not None:
            repository.append_event(
                session,
                key=f"{request_id}-disclosure.recorded-{key}",
                request_id=request_id,
                actor=actor,
                action="disclosure.recorded",
                at=datetime.now(UTC),
                detail={
                    "disclosure": key,
                    "category": item.category.value,
                    "method": item.method.value,
                },
            )
    return key
