"""Issue 15's rule holes: each test failed before its fix and passes after."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain import actions
from domain.authorization import AuthorityDocument, Authorization, validate_authorization
from domain.types import Status
from tests import factories
from tests.harness import Harness
from workflows.record_request import RecordRequestWorkflow as W

STAFF = "spec.holes"
OTHER = "spec.second"


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


async def now(env: WorkflowEnvironment) -> datetime:
    return await env.get_current_time()


def verify(**extra: Any) -> actions.VerifyIdentity:
    return actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PHOTO_ID, **extra)


# ---- 1. a representative's authority (164.502(g)) -------------------------------------------


def _agent_authorization(*documents: str, role: str = "health_care_agent") -> dict[str, Any]:
    return factories.valid_authorization(
        signer_role=role,
        representative_authority="Health care agent under the patient's health care directive",
        authority_documents=list(documents),
    )


@pytest.mark.parametrize(
    "documents, code",
    [
        (["Financial power of attorney"], "financial_poa_not_representative"),
        (["Durable power of attorney"], "financial_poa_not_representative"),
        (["A signed letter from the daughter"], "authority_document_not_accepted"),
        (["Letters testamentary"], "authority_document_not_accepted"),  # wrong relationship
    ],
)
def test_intake_judges_the_authority_document_not_just_that_one_exists(
    documents: list[str], code: str
) -> None:
    auth = Authorization.model_validate(_agent_authorization(*documents))
    assert [p.code for p in validate_authorization(auth, date(2026, 11, 2))] == [code]


def test_accepted_authority_documents_pass_intake() -> None:
    for role, document in [
        ("health_care_agent", "Health care power of attorney"),
        ("legal_guardian", "Letters of guardianship"),
        ("parent_of_minor", "Birth certificate"),
        ("executor", "Letters testamentary"),
        ("administrator", "letters_of_administration"),
    ]:
        auth = Authorization.model_validate(_agent_authorization(document, role=role))
        assert validate_authorization(auth, date(2026, 11, 2)) == [], role


async def test_financial_poa_is_deficient_and_parent_of_adult_too(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    at = (await now(registered_env)).isoformat()
    handle = await h.start(
        factories.third_party(
            received_at=at, authorization=_agent_authorization("Financial power of attorney")
        )
    )
    state = await h.wait_status(handle, Status.DEFICIENT)
    assert [d.code for d in state.deficiencies] == ["financial_poa_not_representative"]
    assert "deficiency" in [o.kind for o in h.outbound(state.request_id)]

    adult = factories.third_party(
        received_at=at,
        authorization=_agent_authorization("Birth certificate", role="parent_of_minor"),
    )
    handle = await h.start(adult)  # the factory's patient was born in 1984
    state = await h.wait_status(handle, Status.DEFICIENT)
    assert [d.code for d in state.deficiencies] == ["patient_not_a_minor"]


async def test_representative_signed_release_needs_the_document_type_confirmed(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.third_party(
            received_at=(await now(registered_env)).isoformat(),
            authorization=_agent_authorization("Health care power of attorney"),
        )
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)

    issues = await h.refused(handle, W.verify, verify(authority_confirmed=True))
    assert [i["code"] for i in issues] == ["authority_document_required"]
    financial = AuthorityDocument.FINANCIAL_POWER_OF_ATTORNEY
    issues = await h.refused(handle, W.verify, verify(authority_document=financial))
    assert [i["code"] for i in issues] == ["financial_poa_not_representative"]
    guardian = AuthorityDocument.LETTERS_OF_GUARDIANSHIP  # a real document, wrong relationship
    issues = await h.refused(handle, W.verify, verify(authority_document=guardian))
    assert [i["code"] for i in issues] == ["authority_document_not_accepted"]

    poa = AuthorityDocument.HEALTH_CARE_POWER_OF_ATTORNEY
    await handle.execute_update(W.verify, verify(authority_confirmed=True, authority_document=poa))
    state = await h.wait_status(handle, Status.READY_TO_RELEASE)
    assert state.authority_document == poa and state.authority_role == "health_care_agent"
    confirmed = [e for e in h.events(state.request_id) if e.action == "identity.verified"]
    assert confirmed[0].detail["authority_document"] == "health_care_power_of_attorney"
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    assert (await handle.result()).status == "completed"


async def test_a_corrected_authorization_by_a_representative_needs_its_authority_confirmed(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.third_party(received_at=(await now(registered_env)).isoformat())
    )
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.verify, verify())
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    # a new form, now signed by the patient's guardian: verified, but authority unconfirmed
    await handle.execute_update(
        W.correct_authorization,
        actions.CorrectAuthorization(
            actor=STAFF,
            authorization=Authorization.model_validate(
                _agent_authorization("Letters of guardianship", role="legal_guardian")
            ),
        ),
    )
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    issues = await h.refused(handle, W.complete, actions.Complete(actor=STAFF))
    assert [i["code"] for i in issues] == ["authority_not_confirmed"]
    financial = AuthorityDocument.FINANCIAL_POWER_OF_ATTORNEY
    issues = await h.refused(
        handle,
        W.confirm_authority,
        actions.ConfirmAuthority(actor=STAFF, authority_document=financial),
    )
    assert [i["code"] for i in issues] == ["financial_poa_not_representative"]
    await handle.execute_update(
        W.confirm_authority,
        actions.ConfirmAuthority(
            actor=STAFF, authority_document=AuthorityDocument.LETTERS_OF_GUARDIANSHIP
        ),
    )
    await h.wait_status(handle, Status.READY_TO_RELEASE)
