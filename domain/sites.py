"""Sites: time zone, business hours and observed holidays (teams' contacts: domain.contacts).

Data, not code: a site changes its hours or holidays here without touching orchestration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from domain.kinds.common import Team
from domain.types import Site

if TYPE_CHECKING:
    from domain.contacts import TeamContact

#: Holidays the hospital's HIMS offices close for (names as the `holidays` package spells
#: them; the "(observed)" weekday substitute of each is included automatically).
HOSPITAL_OBSERVED_HOLIDAYS: frozenset[str] = frozenset(
    {
        "New Year's Day",
        "Memorial Day",
        "Independence Day",
        "Labor Day",
        "Thanksgiving Day",
        "Christmas Day",
    }
)


@dataclass(frozen=True)
class SiteProfile:
    """Everything the engine needs to know about one site."""

    site: Site
    display_name: str
    time_zone: str
    time_zone_label: str
    holiday_country: str
    holiday_subdivision: str
    observed_holidays: frozenset[str] = HOSPITAL_OBSERVED_HOLIDAYS
    extra_closures: frozenset[date] = field(default_factory=frozenset)
    opens: time = time(8, 0)
    closes: time = time(17, 0)

    @property
    def zone(self) -> ZoneInfo:
        """The site's IANA time zone."""
        return ZoneInfo(self.time_zone)

    # The ROI office's contact lives in domain.contacts (one table for every team).

    @property
    def roi_phone(self) -> str:
        return _roi().phone or ""

    @property
    def roi_fax(self) -> str:
        return _roi().fax or ""

    @property
    def roi_email(self) -> str:
        return _roi().email

    @property
    def mailing_address(self) -> tuple[str, ...]:
        """The ROI office's mailing address (the return address of its letters and parcels)."""
        return _roi().mailing_address


def _roi() -> TeamContact:
    from domain.contacts import team_contact  # domain.contacts -> notices -> ... (no cycle)

    return team_contact(Team.ROI)


SITES: dict[Site, SiteProfile] = {
    Site.ARIZONA: SiteProfile(
        site=Site.ARIZONA,
        display_name="Arizona",
        time_zone="America/Phoenix",  # Mountain time, no daylight saving
        time_zone_label="Mountain time",
        holiday_country="US",
        holiday_subdivision="AZ",
    ),
    Site.FLORIDA: SiteProfile(
        site=Site.FLORIDA,
        display_name="Florida",
        time_zone="America/New_York",
        time_zone_label="Eastern time",
        holiday_country="US",
        holiday_subdivision="FL",
    ),
    Site.MINNESOTA: SiteProfile(
        site=Site.MINNESOTA,
        display_name="Minnesota",
        time_zone="America/Chicago",
        time_zone_label="Central time",
        holiday_country="US",
        holiday_subdivision="MN",
    ),
    Site.WISCONSIN: SiteProfile(
        site=Site.WISCONSIN,
        display_name="Wisconsin",
        time_zone="America/Chicago",
        time_zone_label="Central time",
        holiday_country="US",
        holiday_subdivision="WI",
    ),
}


def site_profile(site: Site) -> SiteProfile:
    """The profile of a site (KeyError for an unknown one is a programming error)."""
    return SITES[Site(site)]
