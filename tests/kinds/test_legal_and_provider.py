"""The requests every ROI desk also gets: provider continuity of care, SSA disability,
subpoenas and court orders, certified copies; each logged with the right disclosure category."""

from __future__ import annotations

from typing import Any

from domain import actions
from domain.types import Status
from tests import factories
from tests.harness import Harness
from workflows.record_request import RecordRequestWorkflow as W

SPEC = "spec.legal"
PROVIDER = factories.PROVIDER
COURT = factories.COURT


async def release(h: Harness, data: dict[str, Any]) -> tuple[str, Any]:
    """Verify and complete; returns the disclosure category recorded."""
    handle = await h.start(data)
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION, Status.DEFICIENT)
    assert state.status == Status.AWAITING_VERIFICATION, state.deficiencies
    await handle.execute_update(
        W.verify, actions.VerifyIdentity(actor=SPEC, method=actions.IdentityMethod.KNOWN_PROVIDER)
    )
    paid = await h.pay_if_quoted(handle)  # a law firm or court pays the schedule; treatment not
    assert bool(paid) == (data["kind"] not in ("continuity_of_care", "ssa_disability")), paid
    await handle.execute_update(W.complete, actions.Complete(actor=SPEC))
    await handle.result()
    [disclosure] = h.disclosures(state.request_id)
    return disclosure.category, state


async def deficient_codes(h: Harness, data: dict[str, Any]) -> list[str]:
    handle = await h.start(data)
    state = await h.wait_status(handle, Status.DEFICIENT, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.cancel, actions.Cancel(actor=SPEC, reason="test over"))
    return [d.code for d in state.deficiencies]


async def now_iso(h: Harness) -> str:
    return (await h.env.get_current_time()).isoformat()  # type: ignore[union-attr]


async def test_continuity_of_care_in_wisconsin_needs_no_authorization(harness: Harness) -> None:
    data = factories.own_records(
        kind="continuity_of_care",
        site="wisconsin",
        received_at=await now_iso(harness),
        requester=PROVIDER,
        provider_npi="1234567893",
        delivery_method="us_mail",
    )
    category, _ = await release(harness, data)
    assert category == "treatment"  # excluded from an accounting of disclosures


async def test_continuity_of_care_in_minnesota_needs_the_patients_consent(harness: Harness) -> None:
    data = factories.own_records(
        kind="continuity_of_care",
        site="minnesota",
        received_at=await now_iso(harness),
        requester=PROVIDER,
        provider_npi="1234567893",
        delivery_method="us_mail",
    )
    assert await deficient_codes(harness, data) == ["authorization_missing"]


async def test_provider_request_needs_an_npi(harness: Harness) -> None:
    data = factories.own_records(
        kind="continuity_of_care", site="wisconsin", requester=PROVIDER, delivery_method="us_mail"
    )
    result = await harness.submit(data)
    assert ("provider_npi", "missing") in [(e.field, e.code) for e in result.errors]


async def test_court_order_signed_by_a_judge_suffices(harness: Harness) -> None:
    data = factories.third_party(
        kind="court_order",
        received_at=await now_iso(harness),
        authorization=None,
        legal_document={**COURT, "signed_by_judge": True},
    )
    category, _ = await release(harness, data)
    assert category == "court_order"  # included in an accounting


async def test_court_order_not_signed_by_a_judge_is_deficient(harness: Harness) -> None:
    data = factories.third_party(
        kind="court_order",
        received_at=await now_iso(harness),
        authorization=None,
        legal_document=COURT,
    )
    assert await deficient_codes(harness, data) == ["not_a_court_order"]


async def test_subpoena_alone_is_answered_with_a_deficiency(harness: Harness) -> None:
    data = factories.third_party(
        kind="subpoena",
        received_at=await now_iso(harness),
        authorization=None,
        legal_document=COURT,
    )
    assert await deficient_codes(harness, data) == ["subpoena_without_assurances"]


async def test_subpoena_with_satisfactory_assurances(harness: Harness) -> None:
    data = factories.third_party(
        kind="subpoena",
        received_at=await now_iso(harness),
        authorization=None,
        legal_document={**COURT, "assurance_patient_notified": True},
    )
    category, _ = await release(harness, data)
    assert category == "subpoena"


async def test_subpoena_with_the_patients_authorization(harness: Harness) -> None:
    data = factories.third_party(
        kind="subpoena", received_at=await now_iso(harness), legal_document=COURT
    )
    category, _ = await release(harness, data)
    assert category == "authorization"  # under an authorization: excluded from an accounting


async def test_ssa_disability_on_the_patients_authorization(harness: Harness) -> None:
    dds = {
        "organization": "Disability Determination Services",
        "relationship": "other",
        "contact": {
            "address": {
                "line1": "PO Box 64180",
                "city": "St Paul",
                "state": "MN",
                "postal_code": "55164",
            }
        },
    }
    data = factories.third_party(
        kind="ssa_disability",
        received_at=await now_iso(harness),
        requester=dds,
        # the release goes only to the recipient the patient's authorization names
        authorization=factories.valid_authorization(recipient=dds["organization"]),
    )
    category, _ = await release(harness, data)
    assert category == "authorization"
    unsigned = factories.third_party(
        kind="ssa_disability",
        received_at=await now_iso(harness),
        requester=dds,
        authorization=factories.valid_authorization(signed=False),
    )
    assert await deficient_codes(harness, unsigned) == ["signature_missing"]


async def test_certified_copy_adds_the_custodian_certification(harness: Harness) -> None:
    data = factories.third_party(received_at=await now_iso(harness), certified_copy=True)
    _, state = await release(harness, data)
    kinds = [o.kind for o in harness.outbound(state.request_id)]
    assert "custodian_certification" in kinds and kinds.index(
        "custodian_certification"
    ) < kinds.index("completion")
