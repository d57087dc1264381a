"""Fees as data (164.524(c)(4)): reasonable, cost-based; money in integer cents, never float.

Site policy: a patient's own records are free, an encrypted CD by US mail is free, FedEx is a
$45 flat fee for two-business-day delivery. Third-party fees allowed by state law live in a
per-site schedule and are quoted before work starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, computed_field

from domain.types import DeliveryMethod, RequestKind, Site


@dataclass(frozen=True)
class ThirdPartyFees:
    """What state law lets a site charge a non-patient requester (a site sets these)."""

    flat_cents: int = 0
    per_page_cents: int = 0
    per_search_cents: int = 0  # a retrieval fee, where state law allows one for third parties
    #: a flat charge for an electronic copy instead of per-page copying (HHS's $6.50 option)
    electronic_flat_cents: int | None = None


#: Requests that never carry a third-party copy fee: treatment (164.506) and Social Security
#: disability determinations (paid under the SSA's own rules), besides the right of access.
FEE_EXEMPT_KINDS: frozenset[RequestKind] = frozenset(
    {RequestKind.CONTINUITY_OF_CARE, RequestKind.SSA_DISABILITY}
)

#: The key of a schedule row that applies to any requester type without a row of its own.
ANY_REQUESTER = "*"

#: HHS's flat-fee option for an electronic copy of records kept electronically.
ELECTRONIC_FLAT_CENTS = 650


@dataclass(frozen=True)
class FeeSchedule:
    """The one place fee amounts live."""

    fedex_flat_cents: int = 4500
    fedex_business_days: int = 2
    cd_by_mail_cents: int = 0
    own_records_cents: int = 0
    third_party: dict[Site, ThirdPartyFees] = field(default_factory=dict)
    #: per site and requester type (a Relationship value: attorney, insurer, employer...; "*"
    #: for any other third party); wins over `third_party`
    requester_fees: dict[Site, dict[str, ThirdPartyFees]] = field(default_factory=dict)

    def third_party_fees(self, site: Site, requester: str | None) -> ThirdPartyFees:
        """The row that applies to this site and requester type."""
        rows = self.requester_fees.get(Site(site), {})
        row = rows.get(requester or ANY_REQUESTER) or rows.get(ANY_REQUESTER)
        return row or self.third_party.get(Site(site), ThirdPartyFees())


#: Before issue 15: no third-party fees at all (kept for workflows started before it).
LEGACY_FEE_SCHEDULE = FeeSchedule()

_PAPER = ThirdPartyFees(
    per_page_cents=100, per_search_cents=1000, electronic_flat_cents=ELECTRONIC_FLAT_CENTS
)
_INSURER = ThirdPartyFees(
    per_page_cents=75, per_search_cents=1000, electronic_flat_cents=ELECTRONIC_FLAT_CENTS
)

#: Third-party fees each site's state law allows (site policy; a site changes them here):
#: per page of copies, a search/retrieval fee, the $6.50 flat option for an electronic copy.
DEFAULT_FEE_SCHEDULE = FeeSchedule(
    requester_fees={
        site: {"attorney": _PAPER, "insurer": _INSURER, "employer": _PAPER, ANY_REQUESTER: _PAPER}
        for site in Site
    }
)


class FeeLine(BaseModel):
    """One line of a quote or invoice."""

    code: str
    description: str
    amount_cents: int
    #: an itemized line: how many units (pages) at what rate (None: a flat line)
    quantity: int | None = None
    unit_cents: int | None = None


class FeeQuote(BaseModel):
    """A fee quote; the total is what must be paid before release."""

    lines: list[FeeLine] = []
    #: the requester type whose row of the site's third-party schedule priced this quote
    #: (attorney, insurer...; None: no third-party fee applies)
    requester_type: str | None = None

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
    schedule: FeeSchedule = LEGACY_FEE_SCHEDULE,
    requester: str | None = None,
    kind: RequestKind | None = None,
) -> FeeQuote:
    """The fee for a request: nothing for search or retrieval under the right of access; a
    third party pays what the site's schedule sets for its requester type (an electronic copy
    at the flat option when the schedule offers one, else per page, plus any search fee)."""
    lines: list[FeeLine] = []
    priced_for: str | None = None
    if under_right_of_access:
        if schedule.own_records_cents:
            lines.append(
                FeeLine(
                    code="copies", description="Copies", amount_cents=schedule.own_records_cents
                )
            )
    elif kind is None or RequestKind(kind) not in FEE_EXEMPT_KINDS:
        third = schedule.third_party_fees(site, requester)
        if third != ThirdPartyFees():
            # the row that priced it: the requester's own, else the site's default row (a
            # patient or representative sending records to someone else has no row of its own)
            rows = schedule.requester_fees.get(Site(site), {})
            priced_for = requester if requester and requester in rows else ANY_REQUESTER
        electronic = delivery == DeliveryMethod.EMAIL_LINK
        if electronic and third.electronic_flat_cents is not None:
            lines.append(
                FeeLine(
                    code="third_party_electronic",
                    description="Electronic copy (flat fee)",
                    amount_cents=third.electronic_flat_cents,
                )
            )
            third = ThirdPartyFees()  # the flat fee is all there is for the copy
        if third.per_search_cents:
            lines.append(
                FeeLine(
                    code="third_party_search",
                    description="Search and retrieval",
                    amount_cents=third.per_search_cents,
                )
            )
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
                    description=f"Copies, {pages} pages × {format_usd(third.per_page_cents)}",
                    amount_cents=third.per_page_cents * pages,
                    quantity=pages,
                    unit_cents=third.per_page_cents,
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
    return FeeQuote(lines=lines, requester_type=priced_for)
