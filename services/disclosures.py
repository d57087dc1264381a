"""Disclosures made outside this engine (court orders, subpoenas, public health, police),
recorded by staff so the accounting of disclosures is complete."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from ulid import ULID

from domain.effects import DisclosureRecord
from domain.errors import FieldIssue, issue
from domain.patients import patient_key
from domain.types import DeliveryMethod, DisclosureCategory
from store import repository
from store.db import session_scope


class StaffDisclosure(BaseModel):
    """What a specialist records about a disclosure made by another route."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    patient_first_name: str = Field(min_length=1, max_length=100)
    patient_last_name: str = Field(min_length=1, max_length=100)
    patient_date_of_birth: date
    disclosed_at: datetime
    recipient_name: str = Field(min_length=1, max_length=320)
    recipient_address: str | None = Field(default=None, max_length=1000)
    description: str = Field(min_length=1, max_length=2000)
    purpose: str = Field(min_length=1, max_length=1000)
    category: DisclosureCategory
    method: DeliveryMethod = DeliveryMethod.US_MAIL


def staff_disclosure_issues(item: StaffDisclosure, now: datetime) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if item.disclosed_at > now:
        found.append(
            issue("disclosed_at", "in_future", "The disclosure date cannot be in the future.")
        )
    if item.disclosed_at.tzinfo is None:
        found.append(issue("disclosed_at", "timezone_required", "Give the time zone."))
    return found


def record_staff_disclosure(database_url: str, item: StaffDisclosure, actor: str) -> str:
    """Log the disclosure (append-only); returns its key."""
    key = f"staff-{str(ULID()).lower()}"
    record = DisclosureRecord(
        key=key,
        request_id=key[:32],
        disclosed_at=item.disclosed_at,
        disclosed_by=actor,
        recipient_name=item.recipient_name,
        recipient_address=item.recipient_address,
        description=item.description,
        purpose=item.purpose,
        method=item.method,
        category=item.category,
        authorization_ref=None,
        patient_key=patient_key(
            item.patient_first_name, item.patient_last_name, item.patient_date_of_birth
        ),
    )
    with session_scope(database_url) as session:
        repository.record_disclosure(session, record, source="staff")
    return key
