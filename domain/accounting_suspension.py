"""Accounting suspensions (164.528(a)(2)): a health oversight agency or law enforcement official
may ask the hospital to suspend a patient's right to an accounting of disclosures made to them.

A written request states how long (any end date the agency gives); an oral one lasts at most 30
days and is documented with the official's identity. While a suspension runs, the disclosures to
that agency are left out of the patient's accounting; from the day after it ends they are in.
Suspensions are recorded once and never changed (append-only): a new request is a new row.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.errors import FieldIssue, issue

#: An oral request suspends the accounting for at most this long (164.528(a)(2)(ii)).
ORAL_MAX_DAYS = 30


class SuspensionForm(StrEnum):
    WRITTEN = "written"
    ORAL = "oral"


class AgencyType(StrEnum):
    HEALTH_OVERSIGHT = "health_oversight"
    LAW_ENFORCEMENT = "law_enforcement"


class SuspensionRequest(BaseModel):
    """What staff record about an agency's request (names the patient, as a disclosure does)."""

    patient_first_name: str = Field(min_length=1, max_length=100)
    patient_last_name: str = Field(min_length=1, max_length=100)
    patient_date_of_birth: date
    agency_type: AgencyType
    #: the agency or official whose disclosures are suspended (matched against the recipient
    #: of the patient's logged disclosures)
    agency_name: str = Field(min_length=1, max_length=320)
    form: SuspensionForm
    received_on: date
    #: the last day of the suspension (written: the date the agency states; oral: at most 30
    #: days after the request)
    ends_on: date
    #: the agency's statement that an accounting would be reasonably likely to impede its
    #: activities (written requests), or the staff member's note of what was said (oral)
    statement: str = Field(min_length=1, max_length=2000)
    #: the official who asked: required for an oral request (documented identity)
    official_name: str | None = Field(default=None, max_length=200)
    official_identity: str | None = Field(default=None, max_length=200)  # badge, title, ID


def suspension_issues(item: SuspensionRequest, today: date) -> list[FieldIssue]:
    """What is wrong with a suspension request before it is recorded."""
    found: list[FieldIssue] = []
    if item.received_on > today:
        found.append(issue("received_on", "in_future", "The request date cannot be in the future."))
    if item.ends_on < item.received_on:
        found.append(
            issue("ends_on", "before_request", "The end date cannot be before the request.")
        )
    if item.form == SuspensionForm.ORAL:
        if item.ends_on > item.received_on + timedelta(days=ORAL_MAX_DAYS):
            found.append(
                issue(
                    "ends_on",
                    "oral_over_30_days",
                    "An oral request suspends the accounting for at most 30 days; "
                    "ask the agency for a written request to go longer.",
                )
            )
        if not (item.official_name or "").strip():
            found.append(
                issue(
                    "official_name",
                    "official_identity_required",
                    "Document who made the oral request (the official's name).",
                )
            )
        if not (item.official_identity or "").strip():
            found.append(
                issue(
                    "official_identity",
                    "official_identity_required",
                    "Document the official's identity (badge number, title or agency ID).",
                )
            )
    return found


def fold_name(name: str) -> str:
    """A name compared without case, accents, spacing or punctuation."""
    plain = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in plain if c.isalnum())


class ActiveSuspension(BaseModel):
    """A recorded suspension as the accounting reads it."""

    agency_name: str
    ends_on: date


def is_suspended(
    recipient_name: str, disclosed_at: datetime, suspensions: list[ActiveSuspension], on: date
) -> bool:
    """Whether a disclosure to this recipient is left out of an accounting compiled `on`: a
    suspension for that agency whose end date has not passed."""
    del disclosed_at  # every disclosure to the agency, made before or during the suspension
    recipient = fold_name(recipient_name)
    return any(fold_name(s.agency_name) == recipient and on <= s.ends_on for s in suspensions)
