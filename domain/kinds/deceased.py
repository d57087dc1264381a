"""Deceased-patient notification to HIMS Data Integrity.

Required exactly as the hospital asks: patient first, middle and last name; date of birth;
date of death; reporter's first and last name; relationship; contact phone. MRN only if known.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from domain.errors import FieldIssue, issue
from domain.types import Channel, Language, Site

#: How long a deceased person's information stays protected (45 CFR 160.103, "PHI").
PROTECTION_AFTER_DEATH = timedelta(days=round(50 * 365.25))


class DeceasedPatient(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    first_name: str = Field(min_length=1, max_length=100)
    middle_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    date_of_death: date
    mrn: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9-]+$")


class Reporter(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    relationship: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=7, max_length=25, pattern=r"^\+?[0-9 ().-]{7,25}$")
    email: str | None = Field(default=None, max_length=320)


class DeceasedNotice(BaseModel):
    """A family member telling the hospital that a patient has died."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    kind: str = Field(default="deceased_notice", pattern="^deceased_notice$")
    site: Site
    channel: Channel
    received_at: datetime
    language: Language = Language.EN
    patient: DeceasedPatient
    reporter: Reporter


def deceased_rules(notice: DeceasedNotice, now: datetime) -> list[FieldIssue]:
    """Impossible dates are refused field by field."""
    found: list[FieldIssue] = []
    p = notice.patient
    if p.date_of_death < p.date_of_birth:
        found.append(
            issue(
                "patient.date_of_death",
                "before_birth",
                "The date of death is before the date of birth.",
            )
        )
    if p.date_of_death > now.date():
        found.append(
            issue(
                "patient.date_of_death", "in_future", "The date of death cannot be in the future."
            )
        )
    if p.date_of_birth > now.date():
        found.append(
            issue(
                "patient.date_of_birth", "in_future", "The date of birth cannot be in the future."
            )
        )
    if notice.received_at > now:
        found.append(issue("received_at", "in_future", "The receipt time cannot be in the future."))
    return found


def still_protected(date_of_death: date, today: date) -> bool:
    """A deceased person's records are PHI for 50 years after death."""
    return today - date_of_death < PROTECTION_AFTER_DEATH
