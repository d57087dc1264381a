"""domain.standing: open work has days left; parked work and closed work have none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import end_of_local_day
from domain.standing import Standing, read_clock, standing_of
from domain.types import Site, Status

DUE = date(2026, 12, 4)  # a Friday
DUE_AT = end_of_local_day(Site.ARIZONA, DUE)


def reading(status: Status, closed_at: datetime | None = None, now: datetime | None = None):  # type: ignore[no-untyped-def]
    return read_clock(
        Site.ARIZONA,
        status,
        due_date=DUE,
        due_at=DUE_AT,
        target_due_date=None,
        closed_at=closed_at,
        now=now or datetime(2027, 3, 1, tzinfo=UTC),
    )


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(list(Status)))
def test_only_open_work_has_days_left(status: Status) -> None:
    r = reading(status)
    assert (r.business_days_left is not None) == (standing_of(status) == Standing.OPEN)


def test_parked_work_is_never_late() -> None:
    for status in (Status.ACTIVE, Status.AWAITING_DISAGREEMENT, Status.NOTIFYING):
        r = reading(status)  # three months after the due date
        assert r.standing == Standing.PARKED and not r.breached and r.business_days_left is None
        assert r.summary().startswith("parked: ")
    assert "statement of disagreement" in (
        reading(Status.AWAITING_DISAGREEMENT).parked_reason or ""
    )


def test_closed_late_is_history_and_closed_in_time_is_not() -> None:
    # closed Monday 2026-12-07 10:00 MST: three calendar days after Friday's due date
    late = reading(Status.COMPLETED, closed_at=datetime(2026, 12, 7, 17, 0, tzinfo=UTC))
    assert late.days_late == 3 and late.breached and late.closed_on == date(2026, 12, 7)
    assert late.late_phrase == "completed 3 days late"
    assert late.summary() == "completed 2026-12-07, completed 3 days late"
    # one minute after local midnight is one day late (a due date ends at the site's midnight)
    just = reading(Status.DENIED, closed_at=DUE_AT + timedelta(minutes=1))
    assert just.days_late == 1 and just.late_phrase == "denied 1 day late"
    # 23:30 MST on the due date is 06:30 UTC the next day: still in time (Arizona time)
    ok = reading(Status.COMPLETED, closed_at=datetime(2026, 12, 5, 6, 30, tzinfo=UTC))
    assert ok.days_late == 0 and not ok.breached and ok.late_phrase is None
    assert ok.summary() == "completed 2026-12-04, in time"


def test_open_work_counts_business_days_and_breaches_after_midnight() -> None:
    before = reading(Status.UNDER_REVIEW, now=datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    assert before.business_days_left == 3 and not before.breached
    after = reading(Status.UNDER_REVIEW, now=DUE_AT + timedelta(hours=1))
    assert after.breached and after.business_days_left == 0
