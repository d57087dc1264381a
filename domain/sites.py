"""Sites: time zone, business hours, observed holidays and the ROI office's contact details.

Data, not code: a site changes its hours or holidays here without touching orchestration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from zoneinfo import ZoneInfo

from domain.types import Site

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
    roi_phone: str = "507-284-4594"
    roi_fax: str = "507-284-0161"
    roi_email: str = "MAYOHIMSROI@mayo.edu"
    mailing_address: tuple[str, ...] = (
        "Health Information Management Services",
        "Release of Information",
        "Mayo Clinic",
        "200 First St. SW",
        "Rochester, MN 55905",
    )

    @property
    def zone(self) -> ZoneInfo:
        """The site's IANA time zone."""
        return ZoneInfo(self.time_zone)


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
