"""Release safety: the pure rules, and a held release going back to a specialist."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from activities.channels.mail import single_packet
from activities.channels.packet import PART2_NOTICE_ID, gather
from activities.sources.folder import FolderSource
from domain import actions
from domain.authorization import Part2Consent, part2_consent_issues
from domain.effects import Delivery
from domain.release_basis import release_basis_issues
from domain.release_safety import (
    PART2_NOTICE,
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
from tests.fulfillment.helpers import pages_text, release
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


def part2_consent(**overrides: Any) -> dict[str, Any]:
    """A 42 CFR 2.31 consent with every element, for the factory's patient."""
    consent: dict[str, Any] = {
        "patient_name": "Avery Q Fulfiltest",
        "disclosing_party": "Mayo Clinic addiction services",
        "recipient": "Harbor Law Group LLP",
        "information_description": "Substance use disorder treatment notes, 2024",
        "purpose": "Personal injury claim",
        "statement_right_to_revoke": True,
        "expiration_date": "2040-12-31",
        "signed": True,
        "signature_date": "2026-10-01",
    }
    consent.update(overrides)
    return consent


def test_sensitive_information_needs_naming_and_review() -> None:
    s = sub()
    sud = doc("sud", categories=[SensitiveCategory.SUBSTANCE_USE])
    decision = decide_release(s, [doc(), sud], out_for(s), TODAY)
    assert decision.withheld == {"sud": "substance_use_not_authorized"} and decision.may_release

    # words in the description are not a Part 2 consent (42 CFR 2.31), nor is a record type
    worded = sub(
        authorization=factories.valid_authorization(
            information_description="Office notes and substance use treatment records (Part 2)"
        ),
        records={"description": "all", "record_types": ["visit_notes", "substance_use"]},
    )
    decision = decide_release(worded, [doc(), sud], out_for(worded), TODAY)
    assert decision.withheld == {"sud": "substance_use_not_authorized"} and not decision.part2

    named = sub(authorization=factories.valid_authorization(part2_consent=part2_consent()))
    held = decide_release(named, [doc(), sud], out_for(named), TODAY)
    assert codes(held) == ["sensitive_review_required"]
    reviewed = decide_release(
        named, [doc(), sud], out_for(named), TODAY, sensitive_reviewed_by="s2"
    )
    assert reviewed.may_release and set(reviewed.released) == {"d1", "sud"}
    assert reviewed.part2  # the 42 CFR 2.32 notice goes with it

    # a consent that lapsed by the release date no longer covers them (and stops the release)
    lapsed = sub(
        authorization=factories.valid_authorization(
            part2_consent=part2_consent(expiration_date="2026-11-01")
        )
    )
    late = decide_release(lapsed, [doc(), sud], out_for(lapsed), TODAY, sensitive_reviewed_by="s2")
    assert late.withheld == {"sud": "substance_use_not_authorized"}
    assert codes(late) == ["part2_expired"]


def test_part2_consent_elements_each_have_a_field_and_a_code() -> None:
    consent = Part2Consent.model_validate({})
    assert [(i.field, i.code) for i in part2_consent_issues(consent, TODAY)] == [
        ("authorization.part2_consent.patient_name", "part2_patient_name_missing"),
        ("authorization.part2_consent.disclosing_party", "part2_discloser_missing"),
        ("authorization.part2_consent.recipient", "part2_recipient_missing"),
        ("authorization.part2_consent.information_description", "part2_information_missing"),
        ("authorization.part2_consent.purpose", "part2_purpose_missing"),
        ("authorization.part2_consent.statement_right_to_revoke", "part2_revocation_missing"),
        ("authorization.part2_consent.expiration_date", "part2_expiration_missing"),
        ("authorization.part2_consent.signed", "part2_signature_missing"),
        ("authorization.part2_consent.signature_date", "part2_signature_date_missing"),
    ]
    event = Part2Consent.model_validate(
        part2_consent(expiration_date=None, expiration_event="End of the claim")
    )
    assert part2_consent_issues(event, TODAY) == []
    # an incomplete consent is a deficiency of the form: the letter names each element
    partial = sub(
        authorization=factories.valid_authorization(
            part2_consent=part2_consent(purpose=" ", statement_right_to_revoke=False)
        )
    )
    assert [i.code for i in release_basis_issues(partial, TODAY)] == [
        "part2_purpose_missing",
        "part2_revocation_missing",
    ]
    other = sub(
        authorization=factories.valid_authorization(
            part2_consent=part2_consent(patient_name="Jordan Elsewhere")
        )
    )
    assert [i.code for i in release_basis_issues(other, TODAY)] == ["part2_patient_name_mismatch"]
    sud = doc("sud", categories=[SensitiveCategory.SUBSTANCE_USE])
    decision = decide_release(other, [doc(), sud], out_for(other), TODAY)
    assert decision.withheld == {"sud": "substance_use_not_authorized"}


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

    event = await h.wait_event(state.request_id, "release.held")
    held = await h.wait_status(handle, Status.READY_TO_RELEASE)
    assert held.completion_requested_by is None
    assert [e.action for e in h.events(state.request_id)].count("release.held") == 1
    assert event.detail["codes"] == ["sensitive_review_required"]
    await h.until(lambda: h.notifications(state.request_id) or None, "staff told of the hold")
    assert [n.kind for n in h.notifications(state.request_id)] == ["release_held"]
    assert h.disclosures(state.request_id) == []
    assert not [o for o in h.outbound(state.request_id) if o.kind.startswith("records_")]

    await handle.execute_update(W.review_sensitive, SensitiveReview(actor="spec.second"))
    await handle.execute_update(W.complete, actions.Complete(actor="spec.jlee"))
    assert (await handle.result()).status == "completed"
    [sent] = [o for o in h.outbound(state.request_id) if o.kind == "records_us_mail"]
    assert sent.detail["pages"] > 0
    assert len(h.disclosures(state.request_id)) == 1


def test_part2_disclosure_carries_the_2_32_notice_in_packet_and_cover_letter(
    records: Path,
) -> None:
    write_patient(
        records,
        "avery-sud",
        AVERY,
        [
            {
                "id": "sud-2024",
                "record_type": "visit_notes",
                "title": "Addiction medicine visit",
                "service_date": "2024-04-04",
                "pages": 1,
                "categories": ["substance_use"],
            }
        ],
    )
    source = FolderSource(records)

    def delivery(s: RecordRequestSubmission) -> Delivery:
        contact = s.delivery_contact()
        return Delivery(
            key="k-part2",
            request_id="r-part2",
            tracking_number="ROI-PART2-00001",
            method=s.delivery_method,
            recipient_name=s.recipient_name(),
            address_lines=contact.address.lines() if contact.address else [],
            description="d",
            submission=s,
            sensitive_reviewed_by="spec.second",
            release_on=TODAY,
        )

    consented = sub(authorization=factories.valid_authorization(part2_consent=part2_consent()))
    packet = gather(source, delivery(consented), TODAY)
    assert packet.decision.part2 and "sud-2024" in packet.decision.released
    assert packet.documents[0].facts.document_id == PART2_NOTICE_ID  # the notice comes first
    pdf, _ = single_packet(delivery(consented), packet, TODAY)
    text = [" ".join(t.split()) for t in pages_text(pdf)]
    statement = " ".join(PART2_NOTICE.split())
    assert statement.startswith(
        "This record which has been disclosed to you is protected by federal confidentiality "
        "rules (42 CFR part 2)."
    )
    assert "42 CFR Part 2" in text[0] and statement[:200] in text[0]  # the cover letter
    assert "42 CFR 2.32" in text[1] and statement[:200] in text[1]  # the notice page
    assert "NOT sufficient for this purpose" in " ".join(text[1:3])

    # the keyword alone: the records stay behind, and no notice is needed
    worded = sub(
        authorization=factories.valid_authorization(
            information_description="Office notes and substance use records (Part 2)"
        )
    )
    plain = gather(source, delivery(worded), TODAY)
    assert not plain.decision.part2 and "sud-2024" in plain.decision.withheld
    assert PART2_NOTICE_ID not in [d.facts.document_id for d in plain.documents]
    pdf, _ = single_packet(delivery(worded), plain, TODAY)
    assert "42 CFR" not in " ".join(pages_text(pdf))
