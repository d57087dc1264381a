"""The batch schedule: business days at a local time per site, holidays skipped, Arizona on
Mountain Standard Time all year."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from domain.batch import next_run, previous_run, runs_on
from domain.calendar import is_holiday
from domain.types import Site
from services.schedule import schedule_for

THREE_PM = time(15, 0)


def test_friday_after_the_run_means_monday() -> None:
    friday_evening = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # Friday 16:30 in Phoenix
    following = next_run(Site.ARIZONA, friday_evening, THREE_PM)
    assert following.date() == date(2026, 12, 7) and following.time() == THREE_PM
    assert not runs_on(Site.ARIZONA, datetime(2026, 12, 5, 20, 0, tzinfo=UTC))  # Saturday


def test_holidays_are_skipped() -> None:
    christmas = date(2026, 12, 25)
    assert is_holiday(Site.MINNESOTA, christmas)
    thursday_after_run = datetime(2026, 12, 24, 22, 0, tzinfo=UTC)  # 16:00 in Chicago
    assert next_run(Site.MINNESOTA, thursday_after_run, THREE_PM).date() == date(2026, 12, 28)
    assert previous_run(Site.MINNESOTA, datetime(2026, 12, 27, tzinfo=UTC), THREE_PM).date() == (
        date(2026, 12, 24)
    )


def test_arizona_keeps_the_same_utc_time_all_year_minnesota_does_not() -> None:
    def utc_hour(site: Site, day: datetime) -> int:
        return next_run(site, day, THREE_PM).astimezone(UTC).hour

    january, july = datetime(2026, 1, 6, 6, tzinfo=UTC), datetime(2026, 7, 7, 6, tzinfo=UTC)
    assert utc_hour(Site.ARIZONA, january) == utc_hour(Site.ARIZONA, july) == 22
    assert (utc_hour(Site.MINNESOTA, january), utc_hour(Site.MINNESOTA, july)) == (21, 20)


def test_each_sites_schedule_runs_weekdays_in_its_zone_and_skips_its_holidays() -> None:
    schedule = schedule_for(Site.ARIZONA, "roi-requests", "15:00", date(2026, 11, 25))
    spec = schedule.spec
    assert spec.time_zone_name == "America/Phoenix"
    [calendar] = spec.calendars
    assert [(r.start, r.end) for r in calendar.day_of_week] == [(1, 5)]
    assert [r.start for r in calendar.hour] == [15] and [r.start for r in calendar.minute] == [0]
    skipped = {(s.year[0].start, s.month[0].start, s.day_of_month[0].start) for s in spec.skip}
    assert (2026, 12, 25) in skipped and (2027, 1, 1) in skipped
    assert schedule.action.id == "roi-batch-arizona"  # type: ignore[union-attr]
