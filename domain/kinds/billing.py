"""Billing information requests: routed to the billing office, tracked to an answer."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from domain.kinds.common import CaseSubmission


class BillingRequest(CaseSubmission):
    kind: str = Field(default="billing", pattern="^billing$")
    question: str = Field(min_length=1, max_length=4000)
    statement_from: date | None = None
    statement_to: date | None = None
