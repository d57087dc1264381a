"""Deceased and adoption notices (HIMS Data Integrity), proxy access, billing, outside records."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from domain import actions
from domain.kinds.adoption import ACCEPTED, REJECTED, AdoptionDocument
from domain.patients import patient_key
from domain.types import Status
from store.db import session_scope
from store.models import OutsideRecordsRedirect, PatientRegistry, ProxyGrant, RecordRequest
from tests import factories
from tests.harness import Harness
from workflows.billing import BillingWorkflow
from workflows.data_integrity import DataIntegrityWorkflow
from workflows.proxy import ProxyAccessWorkflow
from workflows.record_request import RecordRequestWorkflow as W

DI = "di.sam"


def unique_name(now: object) -> str:
    return f"T{abs(hash(str(now))) % 10**8}"


# ---- deceased ------------------------------------------------------------------------------

REQUIRED_DECEASED_FIELDS = [
    ("patient", "first_name"),
    ("patient", "middle_name"),
    ("patient", "last_name"),
    ("patient", "date_of_birth"),
    ("patient", "date_of_death"),
    ("reporter", "first_name"),
    ("reporter", "last_name"),
    ("reporter", "relationship"),
    ("reporter", "phone"),
]


@pytest.mark.parametrize(("part", "name"), REQUIRED_DECEASED_FIELDS, ids=lambda v: str(v))
async def test_each_required_deceased_field(harness: Harness, part: str, name: str) -> None:
    data = factories.deceased_notice()
    del data[part][name]
    result = await harness.submit(data)
    assert not result.accepted
    assert [(e.field, e.code) for e in result.errors] == [(f"{part}.{name}", "missing")]


async def test_mrn_is_optional_and_impossible_dates_refused(harness: Harness) -> None:
    ok = factories.deceased_notice()
    assert "mrn" not in ok["patient"]
    bad = factories.deceased_notice()
    bad["patient"]["date_of_death"] = "1980-01-01"  # before birth
    result = await harness.submit(bad)
    assert [(e.field, e.code) for e in result.errors] == [("patient.date_of_death", "before_birth")]
    future = factories.deceased_notice()
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    future["patient"]["date_of_death"] = (now.date() + timedelta(days=400)).isoformat()
    result = await harness.submit(future)
    assert ("patient.date_of_death", "in_future") in [(e.field, e.code) for e in result.errors]


async def test_confirmed_death_requires_a_personal_representative_later(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    first = unique_name(now)
    notice = factories.deceased_notice(received_at=now.isoformat())
    notice["patient"]["first_name"] = first
    notice["patient"]["date_of_death"] = (now.date() - timedelta(days=3)).isoformat()
    handle = await harness.start_case(notice)
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    assert state.start.team == "data_integrity"
    await handle.execute_update(DataIntegrityWorkflow.confirm, actions.ConfirmUpdate(actor=DI))
    assert (await handle.result()).status == "completed"
    key = patient_key(first, "Testpatient", date(1984, 3, 9))
    with session_scope(harness.database_url) as session:
        assert session.get(PatientRegistry, key).deceased_on == now.date() - timedelta(days=3)  # type: ignore[union-attr]

    # a later "own records" request for that patient needs the estate's representative
    request = factories.own_records(received_at=now.isoformat())
    request["patient"]["first_name"] = first
    request["requester"]["first_name"] = first
    copy = await harness.start(request)
    copy_state = await harness.wait_status(copy, Status.DEFICIENT)
    assert [d.code for d in copy_state.deficiencies] == ["personal_representative_required"]
    executor = factories.own_records(received_at=now.isoformat())
    executor["patient"]["first_name"] = first
    executor["requester"] = {
        **executor["requester"],
        "first_name": "Exec",
        "relationship": "legal_representative",
    }
    ok = await harness.start(executor)
    assert (await harness.wait_status(ok, Status.AWAITING_VERIFICATION)).deficiencies == []
    for h in (copy, ok):
        await h.execute_update(W.cancel, actions.Cancel(actor=DI, reason="test over"))


# ---- adoption ------------------------------------------------------------------------------


@pytest.mark.parametrize("document", sorted(REJECTED), ids=lambda d: d.value)
async def test_each_rejected_adoption_document(
    harness: Harness, document: AdoptionDocument
) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(
        factories.adoption_notice(document.value, received_at=now.isoformat())
    )
    final = await handle.result()
    assert final.status == "rejected"
    assert final.outcome.rejected_because == REJECTED[document]
    assert "adoption_rejected" in [o.kind for o in harness.outbound(final.start.request_id)]


@pytest.mark.parametrize("document", sorted(ACCEPTED), ids=lambda d: d.value)
async def test_accepted_adoption_documents_are_recorded_when_complete(
    harness: Harness, document: AdoptionDocument
) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    data = factories.adoption_notice(document.value, received_at=now.isoformat())
    data["patient"]["first_name"] = unique_name((now, document))
    handle = await harness.start_case(data)
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        DataIntegrityWorkflow.confirm, actions.ConfirmUpdate(actor=DI, complete_copy=True)
    )
    assert (await handle.result()).status == "completed"
    with session_scope(harness.database_url) as session:
        assert (
            session.get(PatientRegistry, state.start.patient_key).adoption_recorded_at is not None
        )  # type: ignore[union-attr]
    assert "adoption_accepted" in [o.kind for o in harness.outbound(state.request_id)]


async def test_incomplete_copy_is_rejected(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(
        factories.adoption_notice("order_on_petition", received_at=now.isoformat())
    )
    await harness.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        DataIntegrityWorkflow.confirm, actions.ConfirmUpdate(actor=DI, complete_copy=False)
    )
    final = await handle.result()
    assert final.status == "rejected" and "complete copy" in final.outcome.rejected_because


async def test_unknown_document_type_is_a_field_error(harness: Harness) -> None:
    result = await harness.submit(factories.adoption_notice("passport"))
    assert [(e.field, e.code) for e in result.errors] == [("document_type", "enum")]


# ---- proxy ---------------------------------------------------------------------------------


async def test_minor_proxy_granted_until_the_18th_birthday(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    born = now.date().replace(year=now.year - 17) + timedelta(days=10)  # turns 18 in ~375 days
    data = factories.proxy_for_minor(received_at=now.isoformat())
    data["patient"] = {
        **data["patient"],
        "date_of_birth": born.isoformat(),
        "first_name": unique_name(now),
    }
    handle = await harness.start_case(data)
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    issues = await harness.refused(
        handle, ProxyAccessWorkflow.decide, actions.ProxyDecision(actor=DI, approve=True)
    )
    assert issues[0]["code"] == "documents_not_verified"
    await handle.execute_update(
        ProxyAccessWorkflow.decide,
        actions.ProxyDecision(actor=DI, approve=True, documents_verified=True),
    )
    state = await harness.wait_case(handle, Status.ACTIVE)
    assert state.outcome.expires_on == born.replace(year=born.year + 18)
    await harness.skip(timedelta(days=300))
    assert (await harness.case_state(handle)).status == Status.ACTIVE
    await harness.skip(timedelta(days=80))
    final = await handle.result()
    assert final.status == "expired" and final.outcome.ended_because == "expired"
    with session_scope(harness.database_url) as session:
        grant = session.get(ProxyGrant, state.request_id)
        assert grant is not None and grant.status == "ended" and grant.end_reason == "expired"
    assert (
        len(list((harness.outbox / "portal").glob(f"{state.request_id}-*.json"))) == 2
    )  # grant, end


async def test_proxy_revoked_early_and_adult_cannot_get_a_parent_proxy(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.proxy_for_minor(received_at=now.isoformat()))
    await harness.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        ProxyAccessWorkflow.decide,
        actions.ProxyDecision(actor=DI, approve=True, documents_verified=True),
    )
    await harness.wait_case(handle, Status.ACTIVE)
    await handle.execute_update(
        ProxyAccessWorkflow.revoke, actions.Cancel(actor=DI, reason="Custody order changed")
    )
    final = await handle.result()
    assert final.status == "expired" and final.outcome.ended_because == "revoked"

    adult = factories.proxy_for_minor()
    adult["patient"] = {**adult["patient"], "date_of_birth": "1990-01-01"}
    result = await harness.submit(adult)
    assert [(e.field, e.code) for e in result.errors] == [("basis", "patient_not_a_minor")]


async def test_proxy_denial_needs_a_reason(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.proxy_for_minor(received_at=now.isoformat()))
    await harness.wait_case(handle, Status.UNDER_REVIEW)
    issues = await harness.refused(
        handle, ProxyAccessWorkflow.decide, actions.ProxyDecision(actor=DI, approve=False)
    )
    assert issues[0]["code"] == "reason_required"
    await handle.execute_update(
        ProxyAccessWorkflow.decide,
        actions.ProxyDecision(actor=DI, approve=False, reason="Not the legal guardian"),
    )
    assert (await handle.result()).status == "denied"


# ---- billing and outside records -----------------------------------------------------------


async def test_billing_request_routed_and_answered(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    handle = await harness.start_case(factories.billing(received_at=now.isoformat()))
    state = await harness.wait_case(handle, Status.UNDER_REVIEW)
    assert state.start.team == "billing"
    assert len(list((harness.outbox / "billing").glob(f"{state.request_id}-*.json"))) == 1
    await handle.execute_update(
        BillingWorkflow.answer,
        actions.Answer(actor="billing.lee", text="Itemized statement enclosed."),
    )
    assert (await handle.result()).status == "completed"
    assert "billing_answer" in [o.kind for o in harness.outbound(state.request_id)]


async def test_outside_records_are_redirected_counted_and_never_queued(harness: Harness) -> None:
    with session_scope(harness.database_url) as session:
        before_requests = session.execute(
            select(func.count()).select_from(RecordRequest)
        ).scalar_one()
    result = await harness.submit(
        {
            "kind": "outside_records",
            "site": "arizona",
            "channel": "fax",
            "received_at": "2026-11-20T16:00:00+00:00",
            "sender_name": "Valley Clinic",
        }
    )
    assert result.redirected and not result.accepted and result.request_id is None
    assert "care team" in (result.message or "") and "Patient Portal" in (result.message or "")
    with session_scope(harness.database_url) as session:
        assert session.get(OutsideRecordsRedirect, result.submission_id) is not None
        assert (
            session.execute(select(func.count()).select_from(RecordRequest)).scalar_one()
            == before_requests
        )
    assert harness.started == []
