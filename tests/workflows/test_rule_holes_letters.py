"""Issue 15's rule hole E: the letter goes to the representative who signed for the patient.
Each test failed before its fix and passes after."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from temporalio.testing import WorkflowEnvironment

from domain.request import parse_submission
from domain.types import Status
from tests import factories
from tests.harness import Harness

GUARDIAN: dict[str, Any] = {
    "first_name": "Morgan",
    "last_name": "Guardianson",
    "contact": {
        "email": "morgan.guardian@example.org",
        "address": {
            "line1": "77 Custody Ct",
            "city": "Saint Paul",
            "state": "MN",
            "postal_code": "55102",
        },
    },
}


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


def _guardian_signed(**auth: Any) -> dict[str, Any]:
    return factories.valid_authorization(
        signer_role="legal_guardian",
        representative_authority="Court-appointed guardian of the patient",
        authority_documents=["Letters of guardianship"],
        **auth,
    )


def _from_the_patient(**overrides: Any) -> dict[str, Any]:
    """Sent from the patient's portal account, to a law firm, on a form their guardian signed."""
    values: dict[str, Any] = {
        "requester": factories.own_records()["requester"],
        "recipient": {
            "name": "Harbor Law Group LLP",
            "contact": factories.third_party()["requester"]["contact"],
        },
        "authorization": _guardian_signed(),
    }
    return factories.third_party(**{**values, **overrides})


def _letter_text(path: str | None) -> str:
    assert path
    pages = PdfReader(Path(path)).pages
    return " ".join(" ".join((p.extract_text() or "") for p in pages).split())


def _codes(data: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    _, issues = parse_submission(data, now)
    return [(i.field, i.code) for i in issues]


def test_intake_asks_for_the_representatives_contact() -> None:
    now = datetime.fromisoformat("2026-11-03T12:00:00+00:00")
    assert _codes(_from_the_patient(), now) == [("representative", "missing")]
    nowhere = {**GUARDIAN, "contact": {"phone": "651-555-0100"}}
    assert _codes(_from_the_patient(representative=nowhere), now) == [
        ("representative.contact.address", "missing")
    ]
    assert _codes(_from_the_patient(representative=GUARDIAN), now) == []
    # signed by the patient: no representative to name
    patient_signed = _from_the_patient(
        authorization=factories.valid_authorization(), representative=GUARDIAN
    )
    assert _codes(patient_signed, now) == [("representative", "not_signed_by_representative")]
    # a parent asking for a minor's own records is the representative: their name and address
    minor = {"first_name": "Kiri", "last_name": "Testpatient", "date_of_birth": "2016-04-12"}
    parent = factories.own_records(
        patient=minor,
        requester={"last_name": "Testpatient", "relationship": "parent", "contact": {}},
    )
    assert _codes(parent, now) == [
        ("requester.contact.email", "missing"),  # the secure link's address, as before
        ("requester.first_name", "missing"),
        ("requester.contact.address", "missing"),
    ]


async def test_letters_about_a_guardian_signed_form_go_to_the_guardian(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    at = (await registered_env.get_current_time()).isoformat()
    # the form lacks its purpose: an acknowledgement, then a deficiency letter
    data = _from_the_patient(
        received_at=at, representative=GUARDIAN, authorization=_guardian_signed(purpose=None)
    )
    handle = await h.start(data)
    state = await h.wait_status(handle, Status.DEFICIENT)
    letters = {o.kind: o for o in h.outbound(state.request_id) if o.channel == "letter"}
    for kind in ("acknowledgement", "deficiency"):
        text = _letter_text(letters[kind].path)
        assert "Morgan Guardianson" in text and "77 Custody Ct" in text, kind
        assert "Saint Paul, MN 55102" in text, kind
        assert "100 Example Ave" not in text, kind  # not the patient's own address


async def test_a_parents_request_for_a_minors_records_is_answered_to_the_parent(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    at = (await registered_env.get_current_time()).isoformat()
    minor = {"first_name": "Kiri", "last_name": "Testpatient", "date_of_birth": "2016-04-12"}
    requester = {**factories.own_records()["requester"], "first_name": "Lee"}
    requester["relationship"] = "parent"
    handle = await h.start(
        factories.own_records(received_at=at, patient=minor, requester=requester)
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    [ack] = [o for o in h.outbound(state.request_id) if o.kind == "acknowledgement"]
    text = _letter_text(ack.path)
    assert "Dear Lee Testpatient" in text and "100 Example Ave" in text
