"""Accounting of disclosures (45 CFR 164.528): which releases a patient is told about.

Covers up to 6 years before the request. Excluded: to the patient; treatment, payment and
operations; under an authorization; to persons involved in care; facility directory; national
security; correctional; limited data sets; incidental. Everything else (court orders,
subpoenas, public health, law enforcement, health oversight, ...) is included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, Field

from domain.errors import FieldIssue, issue
from domain.kinds.common import CaseSubmission
from domain.types import DeliveryMethod, DisclosureCategory

LOOKBACK_YEARS = 6
FREE_ACCOUNTINGS_PER_12_MONTHS = 1
#: Site policy: the reasonable, cost-based fee for a second accounting within 12 months.
REPEAT_ACCOUNTING_FEE_CENTS = 1500

EXCLUDED_CATEGORIES: frozenset[DisclosureCategory] = frozenset(
    {
        DisclosureCategory.PATIENT_ACCESS,
        DisclosureCategory.TREATMENT,
        DisclosureCategory.PAYMENT,
        DisclosureCategory.OPERATIONS,
        DisclosureCategory.AUTHORIZATION,
        DisclosureCategory.INVOLVED_IN_CARE,
        DisclosureCategory.FACILITY_DIRECTORY,
        DisclosureCategory.NATIONAL_SECURITY,
        DisclosureCategory.CORRECTIONAL,
        DisclosureCategory.LIMITED_DATA_SET,
        DisclosureCategory.INCIDENTAL,
    }
)


class AccountingRequest(CaseSubmission):
    kind: str = Field(default="accounting", pattern="^accounting$")
    period_from: date | None = None  # default: 6 years before the request
    period_to: date | None = None  # default: the date of the request
    delivery_method: DeliveryMethod = DeliveryMethod.US_MAIL


class DisclosureEntry(BaseModel):
    """One logged disclosure, as the accounting needs it."""

    disclosed_at: datetime
    recipient_name: str
    recipient_address: str | None = None
    description: str
    purpose: str
    category: DisclosureCategory


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def six_years_before(day: date) -> date:
    """The same calendar day six years earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - LOOKBACK_YEARS)
    except ValueError:
        return day.replace(year=day.year - LOOKBACK_YEARS, day=28)


def accounting_period(req: AccountingRequest, requested_on: date) -> Period:
    """The period covered: what the patient asked for, never more than 6 years back."""
    earliest = six_years_before(requested_on)
    start = max(req.period_from or earliest, earliest)
    end = min(req.period_to or requested_on, requested_on)
    return Period(start=start, end=end)


def accounting_rules(req: AccountingRequest, now: datetime) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if req.period_from and req.period_to and req.period_to < req.period_from:
        found.append(issue("period_to", "before_start", "The end date is before the start date."))
    if req.period_to and req.period_to > now.date():
        found.append(issue("period_to", "in_future", "The period cannot end in the future."))
    if req.received_at > now:
        found.append(issue("received_at", "in_future", "The receipt time cannot be in the future."))
    contact = req.reply_contact()
    if req.delivery_method == DeliveryMethod.EMAIL_LINK and not contact.email:
        found.append(issue("requester.contact.email", "missing", "An email address is needed."))
    if req.delivery_method != DeliveryMethod.EMAIL_LINK and contact.address is None:
        found.append(issue("requester.contact.address", "missing", "A mailing address is needed."))
    return found


def accounting_entries(disclosures: list[DisclosureEntry], period: Period) -> list[DisclosureEntry]:
    """Exactly the disclosures the rule requires, in date order."""
    return sorted(
        (
            d
            for d in disclosures
            if d.category not in EXCLUDED_CATEGORIES
            and period.start <= d.disclosed_at.date() <= period.end
        ),
        key=lambda d: d.disclosed_at,
    )


def accounting_fee_cents(previous_requests: list[date], requested_on: date) -> int:
    """The first accounting in any 12 months is free; a later one carries the site's fee."""
    window_start = (
        requested_on.replace(year=requested_on.year - 1)
        if not (requested_on.month == 2 and requested_on.day == 29)
        else date(requested_on.year - 1, 2, 28)
    )
    recent = [d for d in previous_requests if window_start < d <= requested_on]
    return 0 if len(recent) < FREE_ACCOUNTINGS_PER_12_MONTHS else REPEAT_ACCOUNTING_FEE_CENTS
