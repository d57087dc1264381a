"""What every non-copy request carries: who, about whom, where, when, in which language."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.request import Contact, Patient, Requester
from domain.types import Channel, Language, Site


class CaseSubmission(BaseModel):
    """Fields shared by amendment, revocation, proxy, billing, accounting and HIMS notices."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    site: Site
    channel: Channel
    received_at: datetime
    language: Language = Language.EN
    patient: Patient
    requester: Requester

    def reply_contact(self) -> Contact:
        """Where letters about this request go."""
        return self.requester.contact


class Team:
    """Which HIMS team's queue a kind lands in (stored on the read model row)."""

    ROI = "roi"
    AMENDMENT = "amendment"
    DATA_INTEGRITY = "data_integrity"
    BILLING = "billing"


LONG_TEXT = Field(min_length=1, max_length=4000)
