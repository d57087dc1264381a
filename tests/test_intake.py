"""Intake: every submission is stored before anything can fail; bad input gets field errors."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from domain import actions
from domain.types import Status
from services import intake
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest
from tests import factories
from tests.harness import Harness
from workflows.record_request import RecordRequestWorkflow as W


def stored(h: Harness, submission_id: str) -> IntakeSubmission:
    with session_scope(h.database_url) as session:
        row = session.get(IntakeSubmission, submission_id)
        assert row is not None
        return row


def requests_count(h: Harness) -> int:
    with session_scope(h.database_url) as session:
        return session.execute(select(func.count()).select_from(RecordRequest)).scalar_one()


async def test_malformed_json_is_kept_and_rejected(harness: Harness) -> None:
    before = requests_count(harness)
    result = await harness.submit(b'{"kind": "access_own", "patient": ')  # type: ignore[arg-type]
    assert not result.accepted
    assert [(e.field, e.code) for e in result.errors] == [("body", "malformed_json")]
    row = stored(harness, result.submission_id)
    assert row.outcome == "rejected" and row.payload == {
        "unparsed": '{"kind": "access_own", "patient": '
    }
    assert requests_count(harness) == before and harness.started == []


async def test_invalid_fields_give_field_level_errors_and_nothing_half_written(
    harness: Harness,
) -> None:
    data = factories.own_records()
    data["patient"]["date_of_birth"] = "1984-02-31"
    data["requester"]["contact"]["email"] = "avery-at-example"
    data["delivery_method"] = "pigeon"
    data["favourite_colour"] = "blue"
    before = requests_count(harness)
    result = await harness.submit(data)
    fields = {e.field for e in result.errors}
    assert fields == {
        "patient.date_of_birth",
        "requester.contact.email",
        "delivery_method",
        "favourite_colour",
    }
    for error in result.errors:  # no submitted value is echoed back
        assert "avery-at-example" not in error.message and "1984-02-31" not in error.message
    row = stored(harness, result.submission_id)
    assert row.outcome == "rejected" and row.request_id is None
    assert {e["field"] for e in row.errors} == fields  # staff can see why
    assert row.payload["patient"]["last_name"] == "Testpatient"  # the original is kept
    assert requests_count(harness) == before and harness.started == []


async def test_business_rules_are_field_errors(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    data = factories.own_records(
        received_at=(now + timedelta(hours=2)).isoformat(), delivery_method="fedex"
    )
    data["requester"]["relationship"] = "attorney"
    data["requester"]["contact"]["address"]["line1"] = "PO Box 12"
    result = await harness.submit(data)
    assert {(e.field, e.code) for e in result.errors} == {
        ("received_at", "in_future"),
        ("requester.relationship", "not_a_right_of_access_requester"),
        ("requester.contact.address.line1", "po_box_not_allowed"),
    }


async def test_rejected_submission_with_same_key_answers_the_same(harness: Harness) -> None:
    data = factories.own_records(delivery_method="carrier-pigeon")
    first = await harness.submit(data, key="fax-0001")
    again = await harness.submit(data, key="fax-0001")
    assert not first.accepted and not again.accepted and again.duplicate
    assert again.submission_id == first.submission_id
    assert [e.model_dump() for e in again.errors] == [e.model_dump() for e in first.errors]


async def test_third_party_without_authorization_is_queued_as_deficient(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    data = factories.third_party(received_at=now.isoformat())
    del data["authorization"]
    handle = await harness.start(data)
    state = await harness.wait_status(handle, Status.DEFICIENT)
    assert [d.code for d in state.deficiencies] == ["authorization_missing"]
    await handle.execute_update(W.cancel, actions.Cancel(actor="t", reason="test over"))


async def test_reconcile_starts_accepted_submissions_that_never_started(harness: Harness) -> None:
    """A crash between accepting and starting the workflow is repaired by reconcile."""
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    data = factories.own_records(received_at=now.isoformat())
    with session_scope(harness.database_url) as session:
        session.add(
            IntakeSubmission(
                id="01JTESTCRASHED000000000000",
                received_at=now,
                channel="portal",
                source="test",
                payload=json.loads(json.dumps(data)),
                outcome="accepted",
                request_id="01jtestcrashed0000000000000",
                tracking_number="ROI-CRASH-00001",
            )
        )
    started = await intake.reconcile(harness.database_url, harness.client, harness.task_queue)
    harness.started.extend(started)
    assert "roi-01jtestcrashed0000000000000" in started
    handle = harness.client.get_workflow_handle("roi-01jtestcrashed0000000000000")
    state = await harness.wait_status(handle, Status.AWAITING_VERIFICATION)
    assert state.tracking_number == "ROI-CRASH-00001"
    assert await intake.reconcile(harness.database_url, harness.client, harness.task_queue) == []
