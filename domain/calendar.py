"""Business-day arithmetic per site: weekends and the site's observed holidays are skipped.

Pure and deterministic (the `holidays` package computes dates, it reads nothing), so the
workflow may call it to place its timers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from domain.sites import SiteProfile, site_profile
from domain.types import Site

#: Years whose holidays are computed together (and ahead of time by `warm_calendars`).
CALENDAR_YEARS = range(2015, 2046)


def _observed(site: Site, years: range | int) -> dict[int, frozenset[date]]:
    profile = site_profile(site)
    calendar = holidays.country_holidays(
        profile.holiday_country, subdiv=profile.holiday_subdivision, years=years
    )
    by_year: dict[int, set[date]] = {}
    for day, names in calendar.items():
        if any(
            n.removesuffix(" (observed)") in profile.observed_holidays for n in names.split("; ")
        ):
            by_year.setdefault(day.year, set()).add(day)
    for day in profile.extra_closures:
        by_year.setdefault(day.year, set()).add(day)
    wanted = years if isinstance(years, range) else range(years, years + 1)
    return {year: frozenset(by_year.get(year, set())) for year in wanted}


@lru_cache(maxsize=16)
def _site_closures(site: Site) -> dict[int, frozenset[date]]:
    return _observed(site, CALENDAR_YEARS)


@lru_cache(maxsize=256)
def _closures(site: Site, year: int) -> frozenset[date]:
    if year in CALENDAR_YEARS:
        return _site_closures(site)[year]
    return _observed(site, year)[year]


def warm_calendars() -> None:
    """Compute every site's holidays now, outside any workflow sandbox (the holidays package
    reads translation files when it builds a calendar; workflows then only read the cache)."""
    for site in Site:
        _site_closures(site)


def is_holiday(site: Site, day: date) -> bool:
    """True when the site's ROI office is closed for a holiday on that date."""
    return day in _closures(Site(site), day.year)


def is_business_day(site: Site, day: date) -> bool:
    """Monday to Friday and not one of the site's observed holidays."""
    return day.weekday() < 5 and not is_holiday(site, day)


def business_day_on_or_before(site: Site, day: date) -> date:
    """`day` if the site's office is open that day, else the business day before it: a date
    promised to a requester ("expected by") is never a weekend or a holiday, nor later."""
    current = day
    while not is_business_day(site, current):
        current -= timedelta(days=1)
    return current


def due_on_holiday(site: Site, due: date) -> bool:
    """A legal due date on one of the site's holidays (the office is closed that day): staff
    are told, so the work is done by the business day before."""
    return is_holiday(site, due)


def add_business_days(site: Site, start: date, days: int) -> date:
    """The date `days` business days after (or before, if negative) `start`."""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = start
    while remaining:
        current += timedelta(days=step)
        if is_business_day(site, current):
            remaining -= 1
    return current


def business_days_between(site: Site, start: date, end: date) -> int:
    """Business days in (start, end]; negative when end is before start."""
    if end < start:
        return -business_days_between(site, end, start)
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_business_day(site, current):
            count += 1
    return count


def local_date(site: Site, instant: datetime) -> date:
    """The calendar date at the site when `instant` (timezone-aware) happened."""
    return instant.astimezone(site_profile(site).zone).date()


def local_datetime(site: Site, instant: datetime) -> datetime:
    """`instant` expressed in the site's local time."""
    return instant.astimezone(site_profile(site).zone)


def end_of_local_day(site: Site, day: date) -> datetime:
    """The last instant of `day` at the site (a due date is met any time that day)."""
    zone = site_profile(site).zone
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone) - timedelta(
        microseconds=1
    )


def opening_time(site: Site, day: date) -> datetime:
    """When the site's ROI office opens on `day`, as an aware datetime."""
    profile: SiteProfile = site_profile(site)
    return datetime.combine(day, profile.opens, tzinfo=profile.zone)


def next_business_morning(site: Site, instant: datetime) -> datetime:
    """The first opening of the site's office (08:00 local on a business day) at or after
    `instant`: when staff are told of a clock event that falls outside the morning."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    day = local_date(site, instant)
    while True:
        if is_business_day(site, day):
            opening = opening_time(site, day)
            if opening >= instant:
                return opening
        day += timedelta(days=1)


def is_open(site: Site, instant: datetime) -> bool:
    """True during the site's business hours (8:00-17:00 local, business days only)."""
    profile = site_profile(site)
    local = instant.astimezone(profile.zone)
    return is_business_day(site, local.date()) and profile.opens <= local.time() < profile.closes
