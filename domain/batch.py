"""The site batch, as data and rules: what a run is, what it did, and when the next one is.

Mail, CD and FedEx releases wait for their site's batch, run at a set local time on the site's
business days (weekends and the site's holidays skipped; Arizona keeps Mountain Standard Time
all year). Pure: the schedule, the workflow and the board all read the same rule.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from pydantic import BaseModel, Field

from domain.calendar import is_business_day, local_date
from domain.sites import site_profile
from domain.types import DeliveryMethod, Site

#: Methods that wait for the batch; the order in which a run builds them.
BATCH_METHODS = (DeliveryMethod.FEDEX, DeliveryMethod.CD_MAIL, DeliveryMethod.US_MAIL)


class BatchRunInput(BaseModel):
    """How a run was asked for (by the site's schedule, or by staff from the CLI)."""

    site: Site
    trigger: str = "schedule"  # schedule or manual
    batch_id: str | None = None  # None: derived from the workflow id


class BatchStart(BaseModel):
    batch_id: str
    site: str
    trigger: str = "schedule"
    skipped: bool = False  # not a business day at the site


class BatchOutcome(BaseModel):
    """One request's result in a run (ids and references only, no PHI)."""

    request_id: str
    workflow_id: str
    method: str
    sent: bool
    reference: str | None = None
    carrier_tracking_number: str | None = None
    pages: int | None = None
    codes: list[str] = Field(default_factory=list)  # why it was held


class BatchPlan(BaseModel):
    """What a run will do: queued deliveries per method, and earlier sends to announce again."""

    batch_id: str
    site: str
    queued: dict[str, int] = Field(default_factory=dict)
    unsignalled: list[BatchOutcome] = Field(default_factory=list)


class BatchBuild(BaseModel):
    batch_id: str
    site: str
    method: DeliveryMethod
    at: datetime | None = None  # the batch workflow's time: releases are judged on its date


class BatchSummary(BaseModel):
    batch_id: str
    status: str = "finished"  # or failed (a later run finishes the work)
    counts: dict[str, int] = Field(default_factory=dict)
    artifacts: list[str] = Field(default_factory=list)


class BatchResult(BaseModel):
    """What a run returns."""

    batch_id: str
    site: str
    skipped: bool = False
    sent: int = 0
    held: int = 0
    announced_again: int = 0


def parse_batch_time(value: str) -> time:
    """'HH:MM' local time of the daily run."""
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


def runs_on(site: Site, instant: datetime) -> bool:
    """A batch runs at this instant's local date only on a business day of the site."""
    return is_business_day(site, local_date(site, instant))


def next_run(site: Site, after: datetime, at: time) -> datetime:
    """The next scheduled run strictly after `after` (an aware datetime in the site's zone)."""
    zone = site_profile(site).zone
    day = local_date(site, after)
    for _ in range(30):
        candidate = datetime.combine(day, at, tzinfo=zone)
        if candidate > after and is_business_day(site, day):
            return candidate
        day += timedelta(days=1)
    raise ValueError("no business day within 30 days")


def previous_run(site: Site, before: datetime, at: time) -> datetime:
    """The last scheduled run at or before `before`."""
    zone = site_profile(site).zone
    day = local_date(site, before)
    for _ in range(30):
        candidate = datetime.combine(day, at, tzinfo=zone)
        if candidate <= before and is_business_day(site, day):
            return candidate
        day -= timedelta(days=1)
    raise ValueError("no business day within 30 days")
