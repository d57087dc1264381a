"""Property tests: the domain's arithmetic holds for every site, date and input shape."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.authorization import (
    ACCEPTED_AUTHORITY,
    Authorization,
    SignerRole,
    validate_authorization,
)
from domain.calendar import (
    add_business_days,
    business_days_between,
    end_of_local_day,
    is_business_day,
    local_date,
    local_datetime,
)
from domain.fees import FeeSchedule, ThirdPartyFees, quote_fee
from domain.sla import (
    apply_extension,
    check_extension,
    escalation_time,
    next_sla_mark,
    sla_marks,
    start_clock,
)
from domain.types import DeliveryMethod, RequestKind, Site

sites = st.sampled_from(list(Site))
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
quick = settings(max_examples=150, deadline=None)


@quick
@given(site=sites, start=days, n=st.integers(min_value=0, max_value=60))
def test_adding_business_days_lands_on_a_business_day_and_counts_back(
    site: Site, start: date, n: int
) -> None:
    end = add_business_days(site, start, n)
    assert end >= start
    if n:
        assert is_business_day(site, end)
    assert business_days_between(site, start, end) == n


@quick
@given(site=sites, start=days, n=st.integers(min_value=1, max_value=60))
def test_going_back_is_the_inverse_on_business_days(site: Site, start: date, n: int) -> None:
    if not is_business_day(site, start):
        start = add_business_days(site, start, 1)
    assert add_business_days(site, add_business_days(site, start, n), -n) == start


@quick
@given(site=sites, day=days)
def test_weekends_are_never_business_days(site: Site, day: date) -> None:
    if day.weekday() >= 5:
        assert not is_business_day(site, day)


@quick
@given(site=sites, day=days)
def test_a_due_day_ends_at_local_midnight_across_dst(site: Site, day: date) -> None:
    end = end_of_local_day(site, day)
    assert local_date(site, end) == day
    assert local_date(site, end + timedelta(microseconds=1)) == day + timedelta(days=1)


@quick
@given(
    received=instants,
    site=sites,
    kind=st.sampled_from([RequestKind.ACCESS_OWN, RequestKind.AMENDMENT]),
)
def test_clock_marks_are_ordered_and_due_after_receipt(
    received: datetime, site: Site, kind: RequestKind
) -> None:
    clock = start_clock(kind, site, received)
    marks = sla_marks(clock)
    assert [at for _, at in marks] == sorted(at for _, at in marks)
    assert clock.due_at > received
    legal_days = 30 if kind == RequestKind.ACCESS_OWN else 60
    assert (clock.due_date - local_date(site, received)).days == legal_days
    assert clock.legal_risk_at < clock.due_at
    assert next_sla_mark(clock, set()) == marks[0]


@quick
@given(
    received=instants,
    site=sites,
    kind=st.sampled_from([RequestKind.ACCESS_OWN, RequestKind.AMENDMENT]),
)
def test_clock_events_are_told_at_the_next_business_morning(
    received: datetime, site: Site, kind: RequestKind
) -> None:
    """Reminders and escalations reach staff at 08:00 local on a business day, never at local
    midnight, at night or over a weekend or holiday; and never before the event is due."""
    clock = start_clock(kind, site, received)
    for _, at in sla_marks(clock):
        told = escalation_time(clock, at)
        local = local_datetime(site, told)
        assert (local.hour, local.minute, local.second, local.microsecond) == (8, 0, 0, 0)
        assert is_business_day(site, local.date())
        assert at <= told < at + timedelta(days=7)
        # nothing earlier would do: no business morning lies between the event and the telling
        if told - at >= timedelta(days=1):
            day = local_date(site, at) + timedelta(days=1)
            while day < local.date():
                assert not is_business_day(site, day)
                day += timedelta(days=1)


@quick
@given(
    received=instants,
    site=sites,
    extra=st.integers(min_value=-5, max_value=40),
    at_day=st.integers(min_value=0, max_value=40),
)
def test_extension_rule(received: datetime, site: Site, extra: int, at_day: int) -> None:
    clock = start_clock(RequestKind.ACCESS_OWN, site, received)
    now = received + timedelta(days=at_day)
    new_due = clock.original_due_date + timedelta(days=extra)
    problems = {p.code for p in check_extension(clock, now, new_due, "Records in storage")}
    in_time = now <= end_of_local_day(site, clock.original_due_date)
    allowed = in_time and 0 < extra <= 30
    assert (not problems) == allowed
    if allowed:
        extended = apply_extension(clock, new_due, "Records in storage", now)
        again = {p.code for p in check_extension(extended, now, new_due, "again")}
        assert "extension_already_taken" in again
        assert extended.original_due_date == clock.original_due_date


text = st.one_of(st.none(), st.text(max_size=30))


@quick
@given(
    description=text,
    discloser=text,
    recipient=text,
    purpose=text,
    expiration=st.one_of(st.none(), days),
    signed=st.booleans(),
    signature_date=st.one_of(st.none(), days),
    role=st.sampled_from(list(SignerRole)),
    revoke=st.booleans(),
    conditioning=st.booleans(),
    redisclosure=st.booleans(),
    as_of=days,
)
def test_authorization_valid_exactly_when_every_element_is_there(
    description: str | None,
    discloser: str | None,
    recipient: str | None,
    purpose: str | None,
    expiration: date | None,
    signed: bool,
    signature_date: date | None,
    role: SignerRole,
    revoke: bool,
    conditioning: bool,
    redisclosure: bool,
    as_of: date,
) -> None:
    auth = Authorization(
        information_description=description,
        disclosing_party=discloser,
        recipient=recipient,
        purpose=purpose,
        expiration_date=expiration,
        signed=signed,
        signature_date=signature_date,
        signer_role=role,
        representative_authority="Court-appointed guardian" if role != SignerRole.PATIENT else None,
        authority_documents=(
            [sorted(ACCEPTED_AUTHORITY[role])[0].value] if role != SignerRole.PATIENT else []
        ),
        statement_right_to_revoke=revoke,
        statement_conditioning=conditioning,
        statement_redisclosure=redisclosure,
    )
    present = all(v is not None and v.strip() for v in (description, discloser, recipient, purpose))
    valid = (
        present
        and expiration is not None
        and expiration >= as_of
        and signed
        and signature_date is not None
        and signature_date <= as_of
        and revoke
        and conditioning
        and redisclosure
    )
    problems = validate_authorization(auth, as_of)
    assert (not problems) == valid
    for problem in problems:  # messages never echo what was submitted
        for value in (description, discloser, recipient, purpose):
            if value and len(value.strip()) > 3:
                assert value.strip() not in problem.message


@quick
@given(
    site=sites,
    method=st.sampled_from(list(DeliveryMethod)),
    access=st.booleans(),
    pages=st.one_of(st.none(), st.integers(min_value=1, max_value=2000)),
    flat=st.integers(min_value=0, max_value=5000),
    per_page=st.integers(min_value=0, max_value=200),
)
def test_fees_are_whole_cents_and_free_for_the_patient_except_fedex(
    site: Site, method: DeliveryMethod, access: bool, pages: int | None, flat: int, per_page: int
) -> None:
    schedule = FeeSchedule(
        third_party={site: ThirdPartyFees(flat_cents=flat, per_page_cents=per_page)}
    )
    quote = quote_fee(
        site=site, delivery=method, under_right_of_access=access, pages=pages, schedule=schedule
    )
    assert all(
        isinstance(line.amount_cents, int) and line.amount_cents >= 0 for line in quote.lines
    )
    fedex = 4500 if method == DeliveryMethod.FEDEX else 0
    if access:
        assert quote.total_cents == fedex
    else:
        assert quote.total_cents == fedex + flat + (per_page * pages if pages else 0)


def test_escalations_wait_for_the_office_across_weekends_holidays_and_time_zones() -> None:
    # Received Wednesday 2026-11-25 at 14:00 UTC in Arizona (Mountain time all year, no DST):
    # the legal due date is Friday 2026-12-25, Christmas; its end is local midnight.
    received = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    clock = start_clock(RequestKind.ACCESS_OWN, Site.ARIZONA, received)
    assert clock.due_date == date(2026, 12, 25)
    # breach at midnight Friday -> told Monday 2026-12-28 08:00 MST (= 15:00 UTC)
    assert escalation_time(clock, clock.due_at) == datetime(2026, 12, 28, 15, 0, tzinfo=UTC)
    # 14-day target Wednesday 2026-12-09 ends at midnight -> Thursday 08:00 MST
    assert clock.target_due_at is not None
    assert escalation_time(clock, clock.target_due_at) == datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    # day-10 reminder at 07:00 MST Saturday 2026-12-05 -> Monday 2026-12-07 08:00 MST
    assert clock.reminder_at is not None
    assert escalation_time(clock, clock.reminder_at) == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    # the legal-risk escalation already is a business morning: unchanged
    assert escalation_time(clock, clock.legal_risk_at) == clock.legal_risk_at
    # Minnesota in summer (CDT, UTC-5): a target ending Friday 2026-07-03 (Independence Day
    # observed) is told Monday 2026-07-06 at 08:00 CDT = 13:00 UTC
    summer = start_clock(
        RequestKind.ACCESS_OWN, Site.MINNESOTA, datetime(2026, 6, 19, 18, 0, tzinfo=UTC)
    )
    assert summer.target_due_date == date(2026, 7, 3)
    assert summer.target_due_at is not None
    assert escalation_time(summer, summer.target_due_at) == datetime(2026, 7, 6, 13, 0, tzinfo=UTC)
