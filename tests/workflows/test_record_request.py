"""RecordRequestWorkflow on the time-skipping server, with real activities and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain import actions
from domain.calendar import (
    add_business_days,
    end_of_local_day,
    is_business_day,
    local_datetime,
    next_business_morning,
    opening_time,
)
from domain.types import Site, Status
from fakes.carrier import reference_of
from tests import factories
from tests.harness import Harness, skip_time
from workflows.record_request import RecordRequestWorkflow as W

STAFF = "spec.jlee"


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


async def now(env: WorkflowEnvironment) -> datetime:
    return await env.get_current_time()


def verify() -> actions.VerifyIdentity:
    return actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PORTAL_ACCOUNT)


async def test_own_records_by_email_link(h: Harness, registered_env: WorkflowEnvironment) -> None:
    handle = await h.start(
        factories.own_records(received_at=(await now(registered_env)).isoformat())
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    assert state.fee.total_cents == 0  # own records are free

    await handle.execute_update(W.verify, verify())
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    outcome = await handle.result()

    assert outcome.status == "completed" and outcome.disclosures == 1
    row = h.row(state.request_id)
    assert row.status == "completed" and row.closed_at is not None
    [disclosure] = h.disclosures(state.request_id)
    assert disclosure.category == "patient_access" and disclosure.method == "email_link"
    assert disclosure.disclosed_by == STAFF
    [email] = list((h.outbox / "email").glob("*.eml"))
    body = email.read_text()
    assert "avery.testpatient@example.org" in body and "/download/" in body
    assert "visit notes" not in body  # a link, never the records in the mail body
    kinds = [o.kind for o in h.outbound(state.request_id)]
    assert kinds == ["acknowledgement", "records_email_link", "completion"]
    actions_seen = [e.action for e in h.events(state.request_id)]
    assert actions_seen[0] == "request.received"
    assert {"identity.verified", "release.approved", "request.completed"} <= set(actions_seen)


async def test_third_party_deficient_then_corrected(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    bad = factories.valid_authorization(purpose=None, statement_redisclosure=False)
    handle = await h.start(
        factories.third_party(
            received_at=(await now(registered_env)).isoformat(), authorization=bad
        )
    )
    state = await h.wait_status(handle, Status.DEFICIENT)
    assert {d.code for d in state.deficiencies} == {
        "purpose_missing",
        "statement_redisclosure_missing",
    }
    # the law firm is told what the copies cost (the site's schedule) before any work
    assert [o.kind for o in h.outbound(state.request_id)] == [
        "acknowledgement",
        "deficiency",
        "fee_quote",
    ]

    issues = await h.refused(handle, W.complete, actions.Complete(actor=STAFF))
    assert {i["code"] for i in issues} == {"authorization_not_valid", "not_verified", "fee_unpaid"}

    await handle.execute_update(
        W.correct_authorization,
        actions.CorrectAuthorization(actor=STAFF, authorization=factories.valid_authorization()),
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    assert state.deficiencies == [] and state.authorization_valid
    await handle.execute_update(W.verify, verify())
    await h.pay_quote(handle)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    outcome = await handle.result()

    assert outcome.status == "completed"
    [disclosure] = h.disclosures(state.request_id)
    assert disclosure.category == "authorization"
    assert disclosure.purpose == "Personal injury claim"
    assert disclosure.authorization_ref
    # one print-ready packet (cover letter and records) for the mail room
    assert [p.name for p in (h.outbox / "print").glob("*.pdf")] == [
        f"{state.request_id}-deliver.pdf"
    ]


async def test_still_deficient_correction_sends_new_notice(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.third_party(
            received_at=(await now(registered_env)).isoformat(), authorization=None
        )
    )
    state = await h.wait_status(handle, Status.DEFICIENT)
    assert [d.code for d in state.deficiencies] == ["authorization_missing"]
    expired = factories.valid_authorization(expiration_date="2020-01-01")
    result = await handle.execute_update(
        W.correct_authorization, actions.CorrectAuthorization(actor=STAFF, authorization=expired)
    )
    assert result.status == "deficient"
    state = await h.state(handle)
    assert [d.code for d in state.deficiencies] == ["expired"]
    assert [o.kind for o in h.outbound(state.request_id)].count("deficiency") == 2


async def test_fedex_fee_quoted_and_release_waits_for_payment(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.imaging_fedex(received_at=(await now(registered_env)).isoformat())
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    assert state.fee.total_cents == 4500
    assert [line.code for line in state.fee.lines] == ["fedex"]

    await handle.execute_update(W.verify, verify())
    state = await h.wait_status(handle, Status.AWAITING_PAYMENT)
    issues = await h.refused(handle, W.complete, actions.Complete(actor=STAFF))
    assert [i["code"] for i in issues] == ["fee_unpaid"]
    issues = await h.refused(
        handle,
        W.record_payment,
        actions.RecordPayment(actor=STAFF, amount_cents=4000, reference="PAY-1"),
    )
    assert [i["code"] for i in issues] == ["amount_mismatch"]

    await handle.execute_update(
        W.record_payment, actions.RecordPayment(actor=STAFF, amount_cents=4500, reference="PAY-1")
    )
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    await h.wait_status(handle, Status.COMPLETED)
    assert h.row(state.request_id).paid_cents == 4500
    # one 2Day shipment at the carrier, its label and the packet for the envelope
    assert h.carrier is not None
    [shipment] = [
        s for s in h.carrier.shipments.values() if reference_of(s) == f"{state.request_id}-deliver"
    ]
    assert shipment["request"]["requestedShipment"]["serviceType"] == "FEDEX_2_DAY"
    assert sorted(p.name for p in (h.outbox / "ship").glob("*.pdf")) == [
        f"{state.request_id}-deliver-label.pdf",
        f"{state.request_id}-deliver.pdf",
    ]
    for _ in range(12):  # the request follows tracking (6-hourly reads) until delivery
        if "shipment.delivered" in [e.action for e in h.events(state.request_id)]:
            break
        await h.skip(timedelta(hours=6, minutes=5))
        await asyncio.sleep(0.3)
    assert (await handle.result()).status == "completed"
    assert [o.kind for o in h.outbound(state.request_id)][:2] == ["acknowledgement", "fee_quote"]


async def test_completing_before_verification_is_refused(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.own_records(received_at=(await now(registered_env)).isoformat())
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    issues = await h.refused(handle, W.complete, actions.Complete(actor=STAFF))
    assert [i["code"] for i in issues] == ["not_verified"]
    assert h.disclosures(state.request_id) == []
    await handle.execute_update(
        W.cancel, actions.Cancel(actor=STAFF, reason="Requester withdrew by phone")
    )
    assert (await handle.result()).status == "cancelled"


def at_business_morning(site: Site, instant: datetime) -> bool:
    """08:00 local (to the minute the test server wakes) on one of the site's business days."""
    local = local_datetime(site, instant)
    return is_business_day(site, local.date()) and (local.hour, local.minute) in ((8, 0), (8, 1))


async def test_clock_events_fire_on_the_right_simulated_days(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    """Each clock event is told to staff at the start of the site's next business morning
    (08:00 local), never at local midnight or over a weekend or holiday."""
    env = registered_env
    received = await now(env)
    handle = await h.start(factories.own_records(received_at=received.isoformat(), site="arizona"))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    rid = state.request_id
    clock = state.clock
    az = Site.ARIZONA

    async def fires_at(event: str, due: datetime) -> datetime:
        told = next_business_morning(az, due)
        assert due <= told and at_business_morning(az, told)
        await skip_time(env, told - await now(env) - timedelta(hours=1))
        assert h.event_times(rid, f"sla.{event}") == []
        await skip_time(env, timedelta(hours=2))
        [fired] = h.event_times(rid, f"sla.{event}")
        assert timedelta(0) <= fired - told < timedelta(minutes=5)
        assert at_business_morning(az, fired)
        return fired

    # day-10 reminder: the first business morning at or after 10 days from receipt
    await fires_at("reminder", received + timedelta(days=10))

    # the 14-day target ends at local midnight; the escalation waits for the office to open
    target_end = end_of_local_day(
        az, received.astimezone(clock.due_at.tzinfo).date() + timedelta(days=14)
    )
    await skip_time(env, target_end - await now(env) + timedelta(hours=1))
    assert h.event_times(rid, "sla.target_missed") == [] and not h.row(rid).at_risk
    await fires_at("target_missed", target_end)
    assert h.row(rid).at_risk
    assert {(n.audience, n.kind) for n in h.notifications(rid)} >= {
        ("assignee", "reminder"),
        ("supervisor:arizona", "target_missed"),
    }

    risk_at = opening_time(az, add_business_days(az, clock.due_date, -3))
    assert risk_at == clock.legal_risk_at
    await fires_at("legal_risk", risk_at)
    assert h.row(rid).legal_risk

    # the legal due date ends at midnight: no supervisor is woken then; told next morning
    await skip_time(env, clock.due_at - await now(env) + timedelta(hours=1))
    assert h.event_times(rid, "sla.breach") == []
    await fires_at("breach", clock.due_at)
    row = h.row(rid)
    assert (
        row.breached and row.status == "awaiting_verification"
    )  # still open: a breach, not a closure
    assert ("supervisor:arizona", "breach") in {(n.audience, n.kind) for n in h.notifications(rid)}
    await handle.execute_update(W.cancel, actions.Cancel(actor=STAFF, reason="test over"))
    assert (await handle.result()).breached


async def test_one_extension_then_refused(h: Harness, registered_env: WorkflowEnvironment) -> None:
    env = registered_env
    handle = await h.start(factories.own_records(received_at=(await now(env)).isoformat()))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    original = state.clock.due_date

    too_long = actions.Extend(
        actor=STAFF,
        reason="Records at off-site storage",
        new_due_date=original + timedelta(days=31),
    )
    assert [i["code"] for i in await h.refused(handle, W.extend, too_long)] == [
        "extension_too_long"
    ]

    await skip_time(env, timedelta(days=20))
    ok = actions.Extend(
        actor=STAFF,
        reason="Records at off-site storage",
        new_due_date=original + timedelta(days=30),
    )
    await handle.execute_update(W.extend, ok)
    state = await h.state(handle)
    assert state.clock.due_date == original + timedelta(days=30) and state.clock.extensions == 1
    row = h.row(state.request_id)
    assert (
        row.extended
        and row.due_date == original + timedelta(days=30)
        and row.original_due_date == original
    )
    assert "extension" in [o.kind for o in h.outbound(state.request_id)]

    again = actions.Extend(
        actor=STAFF, reason="Still waiting", new_due_date=original + timedelta(days=29)
    )
    assert "extension_already_taken" in [
        i["code"] for i in await h.refused(handle, W.extend, again)
    ]

    # the breach follows the extended date, not the original one (told on the first business
    # morning after it: a long weekend at most)
    past_original = state.clock.original_due_date - (await now(env)).date() + timedelta(days=2)
    await skip_time(env, past_original)
    assert h.event_times(state.request_id, "sla.breach") == []
    await skip_time(env, timedelta(days=33))
    assert len(h.event_times(state.request_id, "sla.breach")) == 1
    await handle.execute_update(W.cancel, actions.Cancel(actor=STAFF, reason="test over"))
    await handle.result()


async def test_extension_after_due_date_refused(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    env = registered_env
    handle = await h.start(factories.own_records(received_at=(await now(env)).isoformat()))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await skip_time(env, timedelta(days=36))  # past the due date and the next business morning
    late = actions.Extend(
        actor=STAFF, reason="Backlog", new_due_date=state.clock.due_date + timedelta(days=10)
    )
    assert [i["code"] for i in await h.refused(handle, W.extend, late)] == ["extension_too_late"]
    assert h.row(state.request_id).breached
    await handle.execute_update(W.cancel, actions.Cancel(actor=STAFF, reason="test over"))
    await handle.result()


async def test_denial_sends_letter_and_releases_nothing(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.own_records(received_at=(await now(registered_env)).isoformat())
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(
        W.deny,
        actions.Deny(
            actor=STAFF,
            basis="psychotherapy_notes",
            explanation="Only psychotherapy notes were asked for.",
        ),
    )
    outcome = await handle.result()
    assert outcome.status == "denied" and outcome.disclosures == 0
    assert h.disclosures(state.request_id) == []
    assert [o.kind for o in h.outbound(state.request_id)] == ["acknowledgement", "denial"]
    assert h.row(state.request_id).status == "denied"
    after = (
        await h.refused(handle, W.verify, verify()) if False else None
    )  # closed workflows take no updates
    assert after is None


async def test_same_idempotency_key_yields_one_workflow(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    data = factories.own_records(received_at=(await now(registered_env)).isoformat())
    first = await h.submit(data, key="portal-abc-123")
    second = await h.submit(data, key="portal-abc-123")
    assert first.accepted and second.duplicate
    assert (first.request_id, first.workflow_id, first.tracking_number) == (
        second.request_id,
        second.workflow_id,
        second.tracking_number,
    )
    handle = h.client.get_workflow_handle_for(W.run, first.workflow_id or "")
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.cancel, actions.Cancel(actor=STAFF, reason="test over"))
    await handle.result()


async def test_a_patient_the_record_source_does_not_hold_is_held_for_staff(
    h: Harness, registered_env: WorkflowEnvironment, capfd: pytest.CaptureFixture[str]
) -> None:
    """No records are made up: the release stops before anything leaves, a specialist is told
    why, and once the records are filed the same request goes out."""
    data = factories.own_records(received_at=(await now(registered_env)).isoformat())
    data["patient"] = {**data["patient"], "first_name": "Unfiled"}  # no folder at the source
    data["requester"] = {**data["requester"], "first_name": "Unfiled"}
    handle = await h.start(data)
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    rid = state.request_id
    await handle.execute_update(W.verify, verify())
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    for _ in range(100):
        if "release.held" in [e.action for e in h.events(rid)]:
            break
        await asyncio.sleep(0.05)

    held = await h.state(handle)
    assert held.status == Status.READY_TO_RELEASE and held.completion_requested_by is None
    assert h.row(rid).status == "ready_to_release"  # back in the specialist's queue
    [event] = [e for e in h.events(rid) if e.action == "release.held"]
    assert event.actor == "system" and event.detail["codes"] == ["no_records_found"]
    assert ("assignee", "release_held") in {(n.audience, n.kind) for n in h.notifications(rid)}
    # nothing left: no email, no package, no disclosure
    assert not [o for o in h.outbound(rid) if o.kind.startswith("records_")]
    assert h.disclosures(rid) == []
    assert not list(h.outbox.glob(f"*/{rid}-deliver*"))
    logs = capfd.readouterr()
    assert "Unfiled" not in logs.out + logs.err  # the reason is a code, never the patient

    h.give_records(data)  # the records are filed at the source; the specialist releases again
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    assert (await handle.result()).status == "completed"
    assert len(h.disclosures(rid)) == 1
    assert [p.name for p in h.outbox.glob(f"email/{rid}-deliver*")] == [f"{rid}-deliver.eml"]
