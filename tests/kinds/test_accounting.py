"""Accounting of disclosures (164.528): the right entries, the 60-day clock, the fee rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain import actions
from domain.calendar import local_date
from domain.types import Status
from services.disclosures import StaffDisclosure, record_staff_disclosure
from tests import factories
from tests.harness import Harness
from workflows.accounting import AccountingWorkflow

SPEC = "spec.acct"


def log_disclosure(
    h: Harness, when: datetime, category: str, recipient: str, first: str = "Avery"
) -> None:
    record_staff_disclosure(
        h.database_url,
        StaffDisclosure(
            patient_first_name=first,
            patient_last_name="Testpatient",
            patient_date_of_birth=date(1984, 3, 9),
            disclosed_at=when,
            recipient_name=recipient,
            description="Records",
            purpose=category,
            category=category,  # type: ignore[arg-type]
        ),
        actor=SPEC,
    )


async def test_accounting_lists_exactly_the_required_disclosures(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    first = f"Acct{now.timestamp():.0f}"  # a patient of this test only
    year = timedelta(days=365)
    included = [
        (now - 2 * year, "court_order", "County District Court"),
        (now - 3 * year, "public_health", "State Health Department"),
        (now - 1 * year, "law_enforcement", "City Police Department"),
        (now - 5 * year, "subpoena", "Smith & Jones LLP"),
    ]
    excluded = [
        (now - 7 * year, "court_order", "Old Court (outside 6 years)"),
        (now - 1 * year, "treatment", "Other Hospital"),
        (now - 1 * year, "authorization", "Insurer Under Authorization"),
        (now - 1 * year, "patient_access", "The Patient"),
        (now - 1 * year, "payment", "Health Plan"),
        (now - 1 * year, "incidental", "Incidental"),
    ]
    for when, category, recipient in included + excluded:
        log_disclosure(harness, when, category, recipient, first=first)
    log_disclosure(harness, now - year, "court_order", "Another Patient's Court", first="Someone")

    data = factories.accounting(received_at=now.isoformat())
    data["patient"] = {**data["patient"], "first_name": first}
    data["requester"] = {**data["requester"], "first_name": first}
    handle = await harness.start_case(data)
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    assert (state.clock.due_date - local_date(state.clock.site, state.clock.received_at)).days == 60
    assert state.fee.total_cents == 0  # the first in 12 months is free
    result = await handle.execute_update(AccountingWorkflow.complete, actions.Complete(actor=SPEC))
    assert "4 entries" in result.message
    final = await handle.result()
    assert final.outcome.entries == 4
    assert final.outcome.period_start == now.date().replace(year=now.year - 6)
    assert "accounting_report" in [o.kind for o in harness.outbound(state.request_id)]


async def test_second_accounting_in_12_months_needs_the_fee_accepted(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    first = f"Fee{now.timestamp():.0f}"
    data = factories.accounting(received_at=now.isoformat())
    data["patient"] = {**data["patient"], "first_name": first}
    one = await harness.start_case(data)
    await harness.wait_case(one, Status.UNDER_REVIEW)
    await one.execute_update(AccountingWorkflow.complete, actions.Complete(actor=SPEC))

    again = dict(data, received_at=(now + timedelta(minutes=1)).isoformat())
    await harness.skip(timedelta(minutes=2))
    two = await harness.start_case(again)
    state = await harness.wait_case(two, Status.AWAITING_REQUESTER)
    assert state.fee.total_cents > 0
    assert "accounting_fee_notice" in [o.kind for o in harness.outbound(state.request_id)]
    issues = await harness.refused(two, AccountingWorkflow.complete, actions.Complete(actor=SPEC))
    assert issues[0]["code"] == "wrong_stage"  # nothing is compiled before the patient decides
    await two.execute_update(
        AccountingWorkflow.respond_to_fee, actions.FeeResponse(actor="patient-portal", accept=False)
    )
    assert (await two.result()).status == "cancelled"

    three = await harness.start_case(
        dict(data, received_at=(now + timedelta(minutes=2)).isoformat())
    )
    await harness.wait_case(three, Status.AWAITING_REQUESTER)
    await three.execute_update(
        AccountingWorkflow.respond_to_fee,
        actions.FeeResponse(actor="spec", accept=True, payment_reference="CARD-1"),
    )
    await harness.wait_case(three, Status.UNDER_REVIEW)
    await three.execute_update(
        AccountingWorkflow.cancel, actions.Cancel(actor=SPEC, reason="test over")
    )


async def test_accounting_clock_breaches_after_60_days_and_extends_once(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    data = factories.accounting(received_at=now.isoformat())
    data["patient"] = {**data["patient"], "first_name": f"Clock{now.timestamp():.0f}"}
    handle = await harness.start_case(data)
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    await harness.skip(timedelta(days=50))
    await handle.execute_update(
        AccountingWorkflow.extend,
        actions.Extend(
            actor=SPEC,
            reason="Gathering records from archive",
            new_due_date=state.clock.due_date + timedelta(days=30),
        ),
    )
    await harness.skip(timedelta(days=15))
    assert harness.event_times(state.request_id, "sla.breach") == []
    await harness.skip(timedelta(days=30))
    assert len(harness.event_times(state.request_id, "sla.breach")) == 1
    await handle.execute_update(
        AccountingWorkflow.cancel, actions.Cancel(actor=SPEC, reason="test over")
    )


async def test_period_in_the_future_is_a_field_error(harness: Harness) -> None:
    data = factories.accounting(
        period_to=(datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    )
    result = await harness.submit(data)
    assert ("period_to", "in_future") in [(e.field, e.code) for e in result.errors]
