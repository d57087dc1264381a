"""Release safety: the pure rules, and a held release going back to a specialist."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from domain import actions
from domain.release_safety import (
    DocumentFacts,
    OutgoingFacts,
    SensitiveCategory,
    SensitiveReview,
    decide_release,
)
from domain.request import RecordRequestSubmission
from domain.types import DeliveryMethod, Status
from fakes.records import write_patient
from tests import factories
from tests.fulfillment.conftest import AVERY
from tests.fulfillment.helpers import release
from tests.harness import Harness
from workflows.record_request import RecordRequestWorkflow as W

TODAY = date(2026, 11, 25)


def sub(**overrides: Any) -> RecordRequestSubmission:
    return RecordRequestSubmission.model_validate(factories.third_party(**overrides))


def doc(document_id: str = "d1", **overrides: Any) -> DocumentFacts:
    values: dict[str, Any] = {
        "document_id": document_id,
        "patient_first_name": "Avery",
        "patient_last_name": "Fulfiltest",
        "patient_date_of_birth": date(1984, 3, 9),
        "patient_mrn": "MRN-0000001",
        "record_type": "visit_notes",
        "service_date": date(2024, 5, 2),
    }
    values.update(overrides)
    return DocumentFacts(**values)


def out_for(s: RecordRequestSubmission, **overrides: Any) -> OutgoingFacts:
    contact = s.delivery_contact()
    values: dict[str, Any] = {
        "method": s.delivery_method,
        "recipient_name": s.recipient_name(),
        "email": contact.email,
        "address_lines": contact.address.lines() if contact.address else [],
    }
    values.update(overrides)
    return OutgoingFacts(**values)


def codes(decision: Any) -> list[str]:
    return [i.code for i in decision.blocking]


def test_a_matching_release_goes() -> None:
    s = sub()
    decision = decide_release(s, [doc()], out_for(s), TODAY)
    assert decision.may_release and decision.released == ["d1"]


def test_another_patients_document_stops_everything() -> None:
    s = sub()
    wrong = doc("d2", patient_first_name="Avory")
    decision = decide_release(s, [doc(), wrong], out_for(s), TODAY)
    assert codes(decision) == ["patient_mismatch"] and not decision.may_release
    other_mrn = doc("d3", patient_mrn="MRN-0000999")
    assert codes(decide_release(s, [other_mrn], out_for(s), TODAY)) == ["patient_mismatch"]


def test_recipient_and_address_must_match_request_and_authorization() -> None:
    s = sub()
    moved = out_for(s, address_lines=["1 Elsewhere Rd", "Minneapolis, MN 55401"])
    assert codes(decide_release(s, [doc()], moved, TODAY)) == ["address_mismatch"]
    other = out_for(s, recipient_name="Someone Else LLC")
    assert codes(decide_release(s, [doc()], other, TODAY)) == [
        "recipient_mismatch",
        "recipient_not_authorized",
    ]
    unnamed = sub(authorization=factories.valid_authorization(recipient="Lakeside Insurance Co"))
    assert codes(decide_release(unnamed, [doc()], out_for(unnamed), TODAY)) == [
        "recipient_not_authorized"
    ]


def test_scope_dates_and_types_and_expiry() -> None:
    s = sub()
    old = doc("old", service_date=date(2019, 1, 1))
    decision = decide_release(s, [doc(), old], out_for(s), TODAY)
    assert decision.released == ["d1"] and decision.withheld == {"old": "out_of_scope"}
    typed = sub(records={"description": "labs", "record_types": ["lab_results"]})
    assert codes(decide_release(typed, [doc()], out_for(typed), TODAY)) == ["nothing_in_scope"]
    lapsed = sub(authorization=factories.valid_authorization(expiration_date="2026-06-30"))
    assert "authorization_expired" in codes(decide_release(lapsed, [doc()], out_for(lapsed), TODAY))


def test_sensitive_information_needs_naming_and_review() -> None:
    s = sub()
    sud = doc("sud", categories=[SensitiveCategory.SUBSTANCE_USE])
    decision = decide_release(s, [doc(), sud], out_for(s), TODAY)
    assert decision.withheld == {"sud": "substance_use_not_authorized"} and decision.may_release

    named = sub(
        authorization=factories.valid_authorization(
            information_description="Office notes and substance use treatment records (Part 2)"
        )
    )
    held = decide_release(named, [doc(), sud], out_for(named), TODAY)
    assert codes(held) == ["sensitive_review_required"]
    reviewed = decide_release(
        named, [doc(), sud], out_for(named), TODAY, sensitive_reviewed_by="s2"
    )
    assert reviewed.may_release and set(reviewed.released) == {"d1", "sud"}


def test_right_of_access_never_includes_psychotherapy_notes() -> None:
    s = RecordRequestSubmission.model_validate(factories.own_records())
    notes = doc("psy", categories=[SensitiveCategory.PSYCHOTHERAPY_NOTES])
    decision = decide_release(s, [doc(), notes], out_for(s), TODAY)
    assert decision.withheld == {"psy": "psychotherapy_notes_excluded"}
    assert s.delivery_method == DeliveryMethod.EMAIL_LINK


async def test_held_release_goes_back_to_a_specialist_then_is_released_after_review(
    h: Harness, registered_env: WorkflowEnvironment, records: Path
) -> None:
    # the patient's folder now also holds mental-health notes, which the authorization names
    write_patient(
        records,
        "avery-mh",
        AVERY,
        [
            {
                "id": "mh-2024",
                "record_type": "visit_notes",
                "title": "Behavioral health visit",
                "service_date": "2024-03-03",
                "pages": 1,
                "categories": ["mental_health"],
            }
        ],
    )
    now = await registered_env.get_current_time()
    auth = factories.valid_authorization(
        information_description="Office notes, lab results and mental health records"
    )
    handle = await h.start(factories.third_party(received_at=now.isoformat(), authorization=auth))
    state = await h.state(handle)
    await release(h, handle)

    held = await h.wait_status(handle, Status.READY_TO_RELEASE)
    assert held.completion_requested_by is None
    [event] = [e for e in h.events(state.request_id) if e.action == "release.held"]
    assert event.detail["codes"] == ["sensitive_review_required"]
    assert [n.kind for n in h.notifications(state.request_id)] == ["release_held"]
    assert h.disclosures(state.request_id) == []
    assert not [o for o in h.outbound(state.request_id) if o.kind.startswith("records_")]

    await handle.execute_update(W.review_sensitive, SensitiveReview(actor="spec.second"))
    await handle.execute_update(W.complete, actions.Complete(actor="spec.jlee"))
    assert (await handle.result()).status == "completed"
    [sent] = [o for o in h.outbound(state.request_id) if o.kind == "records_us_mail"]
    assert sent.detail["pages"] > 0
    assert len(h.disclosures(state.request_id)) == 1
