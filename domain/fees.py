"""Fees as data (164.524(c)(4)): reasonable, cost-based; money in integer cents, never float.

Site policy: a patient's own records are free, an encrypted CD by US mail is free, FedEx is a
$45 flat fee for two-business-day delivery. Third-party fees allowed by state law live in a
per-site schedule and are quoted before work starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, computed_field

from domain.types import DeliveryMethod, Site


@dataclass(frozen=True)
class ThirdPartyFees:
    """What state law lets a site charge a non-patient requester (a site sets these)."""

    flat_cents: int = 0
    per_page_cents: int = 0


@dataclass(frozen=True)
class FeeSchedule:
    """The one place fee amounts live."""

    fedex_flat_cents: int = 4500
    fedex_business_days: int = 2
    cd_by_mail_cents: int = 0
    own_records_cents: int = 0
    third_party: dict[Site, ThirdPartyFees] = field(default_factory=dict)


DEFAULT_FEE_SCHEDULE = FeeSchedule()


class FeeLine(BaseModel):
    """One line of a quote or invoice."""

    code: str
    description: str
    amount_cents: int


class FeeQuote(BaseModel):
    """A fee quote; the total is what must be paid before release."""

    lines: list[FeeLine] = []

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form over @property
    @property
    def total_cents(self) -> int:
        """Sum of the lines."""
        return sum(line.amount_cents for line in self.lines)


def format_usd(cents: int) -> str:
    """$45.00 style, for staff screens (letters format per locale)."""
    return f"${Decimal(cents) / 100:,.2f}"


def quote_fee(
    *,
    site: Site,
    delivery: DeliveryMethod,
    under_right_of_access: bool,
    pages: int | None = None,
    schedule: FeeSchedule = DEFAULT_FEE_SCHEDULE,
) -> FeeQuote:
    """The fee for a request: nothing for search or retrieval, ever."""
    lines: list[FeeLine] = []
    if under_right_of_access:
        if schedule.own_records_cents:
            lines.append(
                FeeLine(
                    code="copies", description="Copies", amount_cents=schedule.own_records_cents
                )
            )
    else:
        third = schedule.third_party.get(Site(site), ThirdPartyFees())
        if third.flat_cents:
            lines.append(
                FeeLine(
                    code="third_party_flat",
                    description="Copy preparation",
                    amount_cents=third.flat_cents,
                )
            )
        if third.per_page_cents and pages:
            lines.append(
                FeeLine(
                    code="third_party_pages",
                    description=f"Copies, {pages} pages",
                    amount_cents=third.per_page_cents * pages,
                )
            )
    if delivery == DeliveryMethod.FEDEX:
        lines.append(
            FeeLine(
                code="fedex",
                description=f"FedEx delivery within {schedule.fedex_business_days} business days",
                amount_cents=schedule.fedex_flat_cents,
            )
        )
    elif delivery == DeliveryMethod.CD_MAIL and schedule.cd_by_mail_cents:
        lines.append(
            FeeLine(
                code="cd",
                description="Encrypted CD by US mail",
                amount_cents=schedule.cd_by_mail_cents,
            )
        )
    return FeeQuote(lines=lines)
