"""Amendment requests (164.526) through AmendmentWorkflow on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from domain import actions
from domain.calendar import is_business_day, local_date, local_datetime, next_business_morning
from domain.kinds.amendment import AmendmentDenialBasis, PersonToNotify
from domain.types import Status
from store.db import session_scope
from store.models import AmendmentRecord
from tests import factories
from tests.harness import Harness
from workflows.amendment import AmendmentWorkflow
from workflows.record_request import RecordRequestWorkflow as W

SPEC = "amend.kim"


def amendment_row(h: Harness, request_id: str) -> AmendmentRecord:
    with session_scope(h.database_url) as session:
        return session.execute(
            select(AmendmentRecord).where(AmendmentRecord.request_id == request_id)
        ).scalar_one()


async def test_routed_to_amendment_team_with_a_60_day_clock(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.amendment(received_at=now.isoformat()))
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    assert state.start.team == "amendment"
    assert (state.clock.due_date - local_date(state.clock.site, state.clock.received_at)).days == 60
    assert state.clock.target_due_date is None
    row = harness.row(state.request_id)
    assert row.team == "amendment" and row.kind == "amendment"

    # one 30-day extension, with notice; a second is refused
    await harness.skip(timedelta(days=40))
    new_due = state.clock.due_date + timedelta(days=30)
    await handle.execute_update(
        AmendmentWorkflow.extend,
        actions.Extend(actor=SPEC, reason="Clinician review pending", new_due_date=new_due),
    )
    issues = await harness.refused(
        handle, "extend", actions.Extend(actor=SPEC, reason="again", new_due_date=new_due)
    )
    assert "extension_already_taken" in [i["code"] for i in issues]
    # the breach follows the extended date: none at day 61, one after day 90
    await harness.skip(timedelta(days=21))
    assert harness.event_times(state.request_id, "sla.breach") == []
    # (told on the first business morning after the due date: a long weekend at most)
    await harness.skip(timedelta(days=35))
    assert len(harness.event_times(state.request_id, "sla.breach")) == 1
    await handle.execute_update(
        AmendmentWorkflow.cancel, actions.Cancel(actor=SPEC, reason="test over")
    )


async def test_breach_at_day_60_without_extension(harness: Harness) -> None:
    """The breach is told to the supervisor at the start of the site's next business morning
    after the due date ends (08:00 local), not at local midnight."""
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.amendment(received_at=now.isoformat()))
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    site = state.clock.site
    await harness.skip(state.clock.due_at - now + timedelta(hours=1))
    assert harness.event_times(state.request_id, "sla.breach") == []  # midnight: nobody woken
    told = next_business_morning(site, state.clock.due_at)
    local = local_datetime(site, told)
    assert (local.hour, local.minute) == (8, 0) and is_business_day(site, local.date())
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    await harness.skip(told - now - timedelta(hours=1))
    assert harness.event_times(state.request_id, "sla.breach") == []
    await harness.skip(timedelta(hours=2))
    [breach] = harness.event_times(state.request_id, "sla.breach")
    assert timedelta(0) <= breach - told < timedelta(minutes=5)
    await handle.execute_update(
        AmendmentWorkflow.cancel, actions.Cancel(actor=SPEC, reason="test over")
    )


async def test_accepted_amendment_notifies_everyone_and_is_linked(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.amendment(received_at=now.isoformat()))
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    holder = PersonToNotify(
        name="Example Imaging Center", address_lines=["5 Scan St", "Rochester, MN 55901"]
    )
    await handle.execute_update(
        AmendmentWorkflow.accept,
        actions.AcceptAmendment(
            actor=SPEC, amendment_text="Penicillin allergy removed.", known_holders=[holder]
        ),
    )
    final = await handle.result()
    assert final.status == "completed"
    kinds = [o.kind for o in harness.outbound(state.request_id)]
    assert (
        kinds.count("amendment_notification") == 2
    )  # the pharmacy the patient named + the known holder
    assert "amendment_accepted" in kinds
    assert len(harness.event_times(state.request_id, "amendment.notified")) == 2
    row = amendment_row(harness, state.request_id)
    assert row.outcome == "accepted" and row.amendment_text == "Penicillin allergy removed."
    assert row.patient_key == state.start.patient_key


async def test_denial_then_disagreement_and_rebuttal_stay_linked(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.amendment(received_at=now.isoformat()))
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    issues = await harness.refused(
        handle, "file_rebuttal", actions.FileStatement(actor=SPEC, text="x")
    )
    assert issues[0]["code"] == "wrong_stage"
    await handle.execute_update(
        AmendmentWorkflow.deny,
        actions.DenyAmendment(
            actor=SPEC,
            basis=AmendmentDenialBasis.ACCURATE_AND_COMPLETE,
            explanation="Verified with the pharmacy record.",
        ),
    )
    await harness.wait_case(handle, Status.AWAITING_DISAGREEMENT)
    # the legal clock is satisfied by the denial: no breach even long after day 60
    await harness.skip(timedelta(days=70))
    assert harness.event_times(state.request_id, "sla.breach") == []
    await handle.execute_update(
        AmendmentWorkflow.file_disagreement,
        actions.FileStatement(actor="patient-portal", text="I disagree."),
    )
    await handle.execute_update(
        AmendmentWorkflow.file_rebuttal,
        actions.FileStatement(actor=SPEC, text="The record is correct."),
    )
    final = await handle.result()
    assert final.status == "completed"
    row = amendment_row(harness, state.request_id)
    assert (row.outcome, row.denial_basis, row.disagreement, row.rebuttal) == (
        "denied",
        "accurate_and_complete",
        "I disagree.",
        "The record is correct.",
    )
    assert "amendment_denied" in [o.kind for o in harness.outbound(state.request_id)]


async def test_denial_without_disagreement_closes_after_the_window(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.amendment(received_at=now.isoformat()))
    await harness.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        AmendmentWorkflow.deny,
        actions.DenyAmendment(
            actor=SPEC, basis=AmendmentDenialBasis.NOT_CREATED_HERE, explanation="Outside lab."
        ),
    )
    await harness.skip(timedelta(days=91))
    assert (await handle.result()).status == "completed"


async def test_third_party_cannot_request_an_amendment(harness: Harness) -> None:
    data = factories.amendment()
    data["requester"]["relationship"] = "attorney"
    result = await harness.submit(data)
    assert not result.accepted
    assert [(e.field, e.code) for e in result.errors] == [
        ("requester.relationship", "not_the_patient_or_representative")
    ]


async def test_unknown_denial_basis_is_a_field_error(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.amendment(received_at=now.isoformat()))
    await harness.wait_case(handle, Status.UNDER_REVIEW)
    try:
        actions.DenyAmendment(actor=SPEC, basis="too_busy", explanation="x")  # type: ignore[arg-type]
    except ValueError as error:
        assert "basis" in str(error)
    else:
        raise AssertionError("an invalid basis was accepted")
    await handle.execute_update(
        AmendmentWorkflow.cancel, actions.Cancel(actor=SPEC, reason="test over")
    )


async def test_amendment_travels_with_later_disclosures(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    first = f"Travel{now.timestamp():.0f}"
    data = factories.amendment(received_at=now.isoformat())
    data["patient"] = {**data["patient"], "first_name": first}
    handle = await harness.start_case(data)
    await harness.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        AmendmentWorkflow.deny,
        actions.DenyAmendment(
            actor=SPEC, basis=AmendmentDenialBasis.ACCURATE_AND_COMPLETE, explanation="Checked."
        ),
    )
    await handle.execute_update(
        AmendmentWorkflow.file_disagreement,
        actions.FileStatement(actor="patient", text="It is wrong."),
    )

    release = factories.third_party(received_at=now.isoformat())
    release["patient"] = {**release["patient"], "first_name": first}
    harness.give_records(release)
    records = await harness.start(release)
    state = await harness.wait_status(records, Status.AWAITING_VERIFICATION)
    await records.execute_update(
        W.verify, actions.VerifyIdentity(actor=SPEC, method=actions.IdentityMethod.KNOWN_PROVIDER)
    )
    await harness.pay_quote(records)
    await records.execute_update(W.complete, actions.Complete(actor=SPEC))
    await records.result()
    # the mailed packet carries the amendment statements linked to the record
    packet = PdfReader(harness.outbox / "print" / f"{state.request_id}-deliver.pdf")
    [page] = [
        text
        for text in (p.extract_text() for p in packet.pages)
        if "Amendments and statements linked to this record" in text
    ]
    assert "Outcome: denied" in page and "Statement of disagreement: It is wrong." in page
    await handle.execute_update(
        AmendmentWorkflow.file_rebuttal, actions.FileStatement(actor=SPEC, text="Rebutted.")
    )


async def test_letters_go_out_in_the_requesters_language(harness: Harness) -> None:
    """A Spanish-speaking patient's amendment: the acceptance letter is in Spanish."""
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(
        factories.amendment(received_at=now.isoformat(), language="es")
    )
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        AmendmentWorkflow.accept,
        actions.AcceptAmendment(actor=SPEC, amendment_text="Alergia a penicilina: no"),
    )
    await harness.wait_case(handle, Status.COMPLETED)
    [letter] = [o for o in harness.outbound(state.request_id) if o.kind == "amendment_accepted"]
    assert letter.detail["language"] == "es"
    text = " ".join(page.extract_text() for page in PdfReader(letter.path).pages)
    assert "Se aceptó su solicitud de corrección" in text
    assert "Alergia a penicilina: no" in text
