"""One Temporal Schedule per site for the daily batch, and starting a run by hand.

The schedule fires at the configured local time Monday to Friday in the site's own time zone
(America/Phoenix for Arizona: no daylight saving) and skips the site's holidays for the next
few years; the batch workflow checks the business day again itself, so a holiday added later
is still respected (the run records itself as skipped).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDReusePolicy

from domain.batch import BatchResult, BatchRunInput, parse_batch_time
from domain.calendar import is_holiday
from domain.sites import site_profile
from domain.types import Site
from workflows.batch import SiteBatchWorkflow

HOLIDAY_YEARS = 3


def schedule_id(site: Site) -> str:
    return f"roi-batch-{site.value}"


def schedule_for(site: Site, task_queue: str, batch_time: str, today: date) -> Schedule:
    """The site's schedule: business days at `batch_time` local, holidays skipped."""
    at = parse_batch_time(batch_time)
    skip = []
    day = today
    while day < today + timedelta(days=366 * HOLIDAY_YEARS):
        if day.weekday() < 5 and is_holiday(site, day):
            skip.append(
                ScheduleCalendarSpec(
                    year=[ScheduleRange(day.year)],
                    month=[ScheduleRange(day.month)],
                    day_of_month=[ScheduleRange(day.day)],
                    hour=[ScheduleRange(0, 23)],
                    minute=[ScheduleRange(0, 59)],
                    second=[ScheduleRange(0, 59)],
                    comment="site holiday",
                )
            )
        day += timedelta(days=1)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SiteBatchWorkflow.run,
            BatchRunInput(site=site, trigger="schedule"),
            id=f"roi-batch-{site.value}",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(at.hour)],
                    minute=[ScheduleRange(at.minute)],
                    second=[ScheduleRange(0)],
                    day_of_week=[ScheduleRange(1, 5)],  # Monday..Friday
                    comment="business days",
                )
            ],
            skip=skip,
            time_zone_name=site_profile(site).time_zone,
        ),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=12)
        ),
    )


async def ensure_batch_schedules(client: Client, task_queue: str, batch_time: str) -> list[str]:
    """Create each site's schedule, or bring an existing one up to date."""
    today = datetime.now(UTC).date()
    ids = []
    for site in Site:
        wanted = schedule_for(site, task_queue, batch_time, today)
        try:
            await client.create_schedule(schedule_id(site), wanted)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput, wanted: Schedule = wanted) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=wanted)

            await client.get_schedule_handle(schedule_id(site)).update(replace)
        ids.append(schedule_id(site))
    return ids


async def next_scheduled(client: Client, site: Site) -> datetime | None:
    """When the site's schedule fires next (None when it does not exist)."""
    try:
        described = await client.get_schedule_handle(schedule_id(site)).describe()
    except Exception:
        return None
    upcoming = described.info.next_action_times
    return upcoming[0] if upcoming else None


async def start_batch_now(
    client: Client, task_queue: str, site: Site
) -> WorkflowHandle[SiteBatchWorkflow, BatchResult]:
    """A run started by staff (any day: a manual run is not limited to business days)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return await client.start_workflow(
        SiteBatchWorkflow.run,
        BatchRunInput(site=site, trigger="manual"),
        id=f"roi-batch-{site.value}-manual-{stamp}",
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
