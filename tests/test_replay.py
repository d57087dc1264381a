"""Recorded workflow histories must replay against today's workflow code.

A failure here means a change would break requests already running in production: guard the
change with workflow.patched(...) instead. To record fresh histories after an intentional,
patched change: ROI_RECORD_HISTORIES=1 scripts/test tests/test_replay.py

Every workflow type the worker runs (workflows.registry.WORKFLOWS) has at least one history here,
recorded through the real intake service, worker and activities, its payloads sealed by the
codec (as in production). One history written before the codec existed is kept as it was:
requests started before encryption was turned on must still replay.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from config.codec import ENCODING
from domain import actions
from domain.batch import BatchResult, BatchRunInput
from domain.calendar import warm_calendars
from domain.kinds.amendment import AmendmentDenialBasis, DisagreementWindow, PersonToNotify
from domain.types import Site, Status
from services.disclosures import StaffDisclosure, record_staff_disclosure
from services.temporal import converter
from tests import factories
from tests.harness import (
    Harness,
    channel_settings,
    fake_carrier,
    running_worker,
    skip_time,
)
from tests.records import write_test_patients
from worker import build_worker, make_activities
from workflows.accounting import AccountingWorkflow
from workflows.amendment import AmendmentWorkflow
from workflows.batch import SiteBatchWorkflow
from workflows.billing import BillingWorkflow
from workflows.data_integrity import DataIntegrityWorkflow
from workflows.proxy import ProxyAccessWorkflow
from workflows.record_request import RecordRequestWorkflow as W
from workflows.registry import WORKFLOWS
from workflows.runner import workflow_runner

HISTORIES = Path(__file__).parent / "histories"
RECORDING = os.environ.get("ROI_RECORD_HISTORIES") == "1"
STAFF = "spec.replay"

#: Recorded before payloads were sealed (plain JSON payloads); kept, never re-recorded, to prove
#: histories of requests started before encryption still replay. The only history allowed to
#: show the synthetic patient in clear.
BEFORE_CODEC = "own_records_email_before_codec"

#: The histories the recording below writes, and what each exercises.
RECORDED = {
    # RecordRequestWorkflow
    "own_records_email": "verify, complete: records by secure email link",
    "third_party_corrected_fedex": "deficient authorization corrected, verify, payment, note, "
    "complete: FedEx and its tracking reads",
    "clocks_extension_breach": "SLA timers, an extension, the breach, cancel",
    "third_party_stopped_by_revocation": "ready to release, stopped by a revocation's signal",
    "mail_sent_by_site_batch": "US mail queued for the site batch, then its batch_fulfilled",
    # case workflows
    "amendment_denied_disagreement_rebuttal": "extend, the extended clock's legal-risk and "
    "breach timers, deny, the patient's statement of disagreement, the rebuttal",
    "amendment_accepted": "accept with a known holder: each holder notified",
    "amendment_denied_no_disagreement": "deny; the disagreement window's timer closes it",
    "revocation_applied": "applied on receipt against a pending third-party request",
    "proxy_minor_granted_revoked": "documents checked, granted, revoked",
    "proxy_guardian_expired": "granted until the guardianship order ends: the expiry timer",
    "billing_answered": "routed to billing, answered",
    "deceased_confirmed": "deceased notice confirmed: the registry updated",
    "adoption_confirmed": "adoption decree, complete copy confirmed",
    "accounting_sent": "first accounting in 12 months (free): the legal-risk timer, then "
    "compiled and sent",
    "accounting_fee_accepted_sent": "second in 12 months: fee quoted, accepted, sent",
    # SiteBatchWorkflow
    "site_batch_mail_and_cd": "a site's batch run: the mail PDF, a CD, each request told",
    # OutsideRecordsReplyWorkflow
    "outside_records_reply_email": "outside records sent to ROI: the redirect answer emailed "
    "to the sender, once",
    # after local-read-model-writes-v1: projection and staff notices as local activities
    "own_records_local_writes": "verify, complete, by secure email link: every projection a "
    "local activity (markers, not activity events)",
    "amendment_accepted_local_writes": "accept with a known holder, projection local",
    # InboundPollWorkflow, InboundDocumentWorkflow (recorded in tests/inbound)
    "inbound_poll_starts_reading": "the mailbox poll finds a document stored while Temporal "
    "was unreachable and starts its reading",
    "inbound_document_unreadable": "a faxed file OCR cannot read: marked for manual keying",
}


def history_files() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def workflow_type_of(path: Path) -> str:
    """The workflow type named by a history's WorkflowExecutionStarted event."""
    [started] = [
        e
        for e in json.loads(path.read_text())["events"]
        if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    ]
    return str(started["workflowExecutionStartedEventAttributes"]["workflowType"]["name"])


def registered_types() -> set[str]:
    """The workflow type names the worker registers."""
    return {workflow._Definition.must_from_class(w).name for w in WORKFLOWS}


def test_histories_are_checked_in() -> None:
    """One history at least per workflow type: a new type without one fails here."""
    names = {p.stem for p in history_files()}
    assert {BEFORE_CODEC, *RECORDED} <= names, sorted({BEFORE_CODEC, *RECORDED} - names)
    recorded_types = {workflow_type_of(p) for p in history_files()}
    missing = registered_types() - recorded_types
    assert not missing, f"no recorded history for {sorted(missing)}: record one (see above)"
    assert recorded_types <= registered_types(), "a history of a type the worker no longer runs"


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "no-sandbox"])
@pytest.mark.parametrize("path", history_files(), ids=lambda p: p.stem)
async def test_history_replays_without_nondeterminism(path: Path, sandboxed: bool) -> None:
    """Under the sandbox (development, CI) and without it (ROI_WORKFLOW_SANDBOX=false), with
    production's converter: sealed payloads opened by the codec, plain ones passed through."""
    warm_calendars()
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=converter(),
        workflow_runner=workflow_runner(sandboxed),
    )
    history = json.loads(path.read_text())
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json(path.stem, history),
        raise_on_replay_failure=False,
    )
    assert result.replay_failure is None, result.replay_failure


# ---- no synthetic patient in clear ----------------------------------------------------------

IDENTIFYING = frozenset({"last_name", "date_of_birth", "date_of_death", "mrn", "email", "phone"})


def synthetic_identifiers() -> set[str]:
    """The factories' patients' (and their requesters') last names, birth and death dates,
    MRNs, emails and phone numbers."""
    samples = [
        factories.own_records(),
        factories.third_party(),
        factories.imaging_fedex(),
        factories.amendment(),
        factories.accounting(),
        factories.billing(),
        factories.revocation(["ROI-AAAAA-BBBBB"]),
        factories.proxy_for_minor(),
        factories.deceased_notice(),
        factories.adoption_notice(),
    ]
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in IDENTIFYING and isinstance(value, str) and value:
                    found.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(samples)
    return found


def payloads(node: Any) -> Iterator[dict[str, Any]]:
    """Every payload ({metadata, data}) anywhere in a history's JSON."""
    if isinstance(node, dict):
        if isinstance(node.get("metadata"), dict) and ("data" in node or node["metadata"]):
            yield node
        for value in node.values():
            yield from payloads(value)
    elif isinstance(node, list):
        for item in node:
            yield from payloads(item)


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def sealed_histories() -> list[Path]:
    return [p for p in history_files() if p.stem != BEFORE_CODEC]


def test_synthetic_identifiers_are_the_factories() -> None:
    """The check below looks for something real: the factories' patients."""
    found = synthetic_identifiers()
    assert {"Testpatient", "Testchild", "1984-03-09", "MRN-0000001"} <= found
    assert "avery.testpatient@example.org" in found


@pytest.mark.parametrize("path", sealed_histories(), ids=lambda p: p.stem)
def test_history_holds_no_synthetic_phi_in_clear(path: Path) -> None:
    """Neither the history's text nor any payload's decoded data or metadata shows a patient's
    last name, birth date, MRN, email or phone: payloads are sealed. (BEFORE_CODEC, recorded
    before encryption, is the one history excluded.)"""
    text = path.read_text()
    assert payloads(json.loads(text)), f"{path.name}: no payload found to check"
    decoded = [
        blob
        for payload in payloads(json.loads(text))
        for blob in (
            _b64(str(payload.get("data", ""))),
            *(_b64(str(v)) for v in payload["metadata"].values()),
        )
    ]
    haystacks = [text.lower().encode(), *(blob.lower() for blob in decoded)]
    leaked = sorted(
        value
        for value in synthetic_identifiers()
        if any(value.lower().encode() in haystack for haystack in haystacks)
    )
    assert not leaked, f"{path.name} shows {leaked} in clear"


def test_before_codec_history_is_plain_and_the_others_sealed() -> None:
    """The kept pre-codec history really is unencrypted (else it proves nothing), and every
    other history's payloads are sealed (search attributes and patch markers excepted: neither
    holds a patient detail)."""
    plain = json.loads((HISTORIES / f"{BEFORE_CODEC}.json").read_text())
    encodings = {_b64(p["metadata"].get("encoding", "")) for p in payloads(plain)}
    assert ENCODING not in encodings and b"json/plain" in encodings
    for path in sealed_histories():
        history = json.loads(path.read_text())
        checked = 0
        for event in history["events"]:
            for key, attributes in event.items():
                if not key.endswith("Attributes") or attributes.get("markerName") == "core_patch":
                    continue  # a workflow.patched() marker: the patch id only, written by the SDK
                if attributes.get("markerName") == "core_local_activity":
                    # the SDK's own record of the call (sequence, attempt, activity type, time)
                    # is plain; the activity's result is sealed like any payload
                    attributes = {"details": {"result": attributes["details"].get("result", {})}}
                # search attributes are indexed by Temporal, so never encoded (no PHI in them:
                # workflows/search.py)
                attributes = {k: v for k, v in attributes.items() if k != "searchAttributes"}
                for payload in payloads(attributes):
                    encoding = _b64(payload["metadata"].get("encoding", ""))
                    assert encoding == ENCODING, (path.name, event["eventType"], encoding)
                    checked += 1
        assert checked, f"{path.name}: no payload found to check"


# ---- recording (runs only with ROI_RECORD_HISTORIES=1) ------------------------------------


@pytest.fixture
async def recorder(
    registered_env: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    if not RECORDING:
        pytest.skip("set ROI_RECORD_HISTORIES=1 to record histories")
    async with running_worker(
        registered_env.client, database_url, tmp_path / "outbox", registered_env
    ) as harness:
        yield harness


@asynccontextmanager
async def batching_worker(
    env: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    """The harness's worker (production's activities and channels), with the site batch on:
    mail, CD and FedEx wait for the site's batch run."""
    outbox = tmp_path / "outbox"
    records = write_test_patients(tmp_path / "records")
    task_queue = f"replay-batch-{uuid.uuid4().hex[:8]}"
    with fake_carrier() as (carrier, url), ThreadPoolExecutor(max_workers=8) as executor:
        settings = channel_settings(outbox, records, url, batch_enabled=True)
        activities = make_activities(settings, database_url)
        async with build_worker(env.client, task_queue, activities, executor):
            harness = Harness(
                client=env.client,
                task_queue=task_queue,
                database_url=database_url,
                outbox=outbox,
                env=env,
                records=records,
                carrier=carrier,
            )
            try:
                yield harness
            finally:
                await harness.terminate_open()


async def _save(handle: WorkflowHandle, name: str) -> None:
    assert name in RECORDED, f"describe {name} in RECORDED"
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(json.dumps(history.to_json_dict(), indent=1))


async def _recorded(h: Harness, request_id: str, action: str, timeout: float = 15) -> None:
    """Wait (in real time) until the request's audit trail shows `action`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not h.event_times(request_id, action):
        assert asyncio.get_running_loop().time() < deadline, f"{action} never recorded"
        await asyncio.sleep(0.05)


VERIFY = actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PHOTO_ID)


async def test_record_request_histories(
    recorder: Harness, registered_env: WorkflowEnvironment
) -> None:
    h, env = recorder, registered_env
    now = await env.get_current_time()

    handle = await h.start(factories.own_records(received_at=now.isoformat()))
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.verify, VERIFY)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    assert (await handle.result()).status == "completed"
    await _save(handle, "own_records_email")

    bad = factories.valid_authorization(signed=False)
    handle = await h.start(
        factories.third_party(
            received_at=now.isoformat(), authorization=bad, delivery_method="fedex"
        )
    )
    await h.wait_status(handle, Status.DEFICIENT)
    await handle.execute_update(
        W.correct_authorization,
        actions.CorrectAuthorization(actor=STAFF, authorization=factories.valid_authorization()),
    )
    await handle.execute_update(W.verify, VERIFY)
    await handle.execute_update(
        W.record_payment, actions.RecordPayment(actor=STAFF, amount_cents=4500, reference="R-1")
    )
    await handle.execute_update(W.add_note, actions.AddNote(actor=STAFF, text="Paid by card"))
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    state = await h.wait_status(handle, Status.COMPLETED)
    for _ in range(12):  # the 6-hourly tracking reads: picked up, in transit, delivered
        if "shipment.delivered" in [e.action for e in h.events(state.request_id)]:
            break
        await h.skip(timedelta(hours=6, minutes=5))
        await asyncio.sleep(0.3)
    assert (await handle.result()).status == "completed"
    await _save(handle, "third_party_corrected_fedex")

    handle = await h.start(factories.own_records(received_at=now.isoformat(), site="florida"))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await skip_time(env, timedelta(days=15))
    await handle.execute_update(
        W.extend,
        actions.Extend(
            actor=STAFF,
            reason="Archived records",
            new_due_date=state.clock.due_date + timedelta(days=10),
        ),
    )
    await skip_time(env, timedelta(days=30))
    await handle.execute_update(W.cancel, actions.Cancel(actor=STAFF, reason="Withdrawn"))
    assert (await handle.result()).status == "cancelled"
    await _save(handle, "clocks_extension_breach")


async def test_record_local_writes_histories(
    recorder: Harness, registered_env: WorkflowEnvironment
) -> None:
    """Record only these after the local-writes patch (`-k local_writes`): the histories above
    keep the projection as activities, as requests started before it still do."""
    h, env = recorder, registered_env
    now = await env.get_current_time()
    handle = await h.start(factories.own_records(received_at=now.isoformat()))
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.verify, VERIFY)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    assert (await handle.result()).status == "completed"
    await _save(handle, "own_records_local_writes")

    handle = await h.start_case(factories.amendment(received_at=now.isoformat()))
    await h.wait_case(handle, Status.UNDER_REVIEW)
    holder = PersonToNotify(name="Example Clinic", address_lines=["5 Main St", "Mesa, AZ 85201"])
    await handle.execute_update(
        AmendmentWorkflow.accept,
        actions.AcceptAmendment(
            actor=STAFF, amendment_text="Allergy list corrected.", known_holders=[holder]
        ),
    )
    assert (await handle.result()).status == "completed"
    await _save(handle, "amendment_accepted_local_writes")


async def test_record_amendment_histories(
    recorder: Harness, registered_env: WorkflowEnvironment
) -> None:
    h, env = recorder, registered_env
    now = await env.get_current_time()
    handle = await h.start_case(factories.amendment(received_at=now.isoformat()))
    state = await h.wait_case(handle, Status.UNDER_REVIEW)
    await skip_time(env, timedelta(days=40))
    await handle.execute_update(
        AmendmentWorkflow.extend,
        actions.Extend(
            actor=STAFF,
            reason="Clinician review pending",
            new_due_date=state.clock.due_date + timedelta(days=30),
        ),
    )
    await skip_time(env, timedelta(days=52))  # the extended clock's legal-risk and breach timers
    await _recorded(h, state.request_id, "sla.breach")
    await handle.execute_update(
        AmendmentWorkflow.deny,
        actions.DenyAmendment(
            actor=STAFF,
            basis=AmendmentDenialBasis.ACCURATE_AND_COMPLETE,
            explanation="Verified with the pharmacy record.",
        ),
    )
    await h.wait_case(handle, Status.AWAITING_DISAGREEMENT)
    await skip_time(env, timedelta(days=20))
    await handle.execute_update(
        AmendmentWorkflow.file_disagreement,
        actions.FileStatement(actor="patient-portal", text="I disagree."),
    )
    await handle.execute_update(
        AmendmentWorkflow.file_rebuttal,
        actions.FileStatement(actor=STAFF, text="The record is correct."),
    )
    assert (await handle.result()).status == "completed"
    await _save(handle, "amendment_denied_disagreement_rebuttal")

    now = await env.get_current_time()
    handle = await h.start_case(factories.amendment(received_at=now.isoformat()))
    await h.wait_case(handle, Status.UNDER_REVIEW)
    holder = PersonToNotify(
        name="Example Imaging Center", address_lines=["5 Scan St", "Rochester, MN 55901"]
    )
    await handle.execute_update(
        AmendmentWorkflow.accept,
        actions.AcceptAmendment(
            actor=STAFF, amendment_text="Penicillin allergy removed.", known_holders=[holder]
        ),
    )
    assert (await handle.result()).status == "completed"
    await _save(handle, "amendment_accepted")

    now = await env.get_current_time()
    handle = await h.start_case(factories.amendment(received_at=now.isoformat()))
    await h.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        AmendmentWorkflow.deny,
        actions.DenyAmendment(
            actor=STAFF, basis=AmendmentDenialBasis.NOT_CREATED_HERE, explanation="Outside lab."
        ),
    )
    await h.wait_case(handle, Status.AWAITING_DISAGREEMENT)
    await h.skip(timedelta(days=DisagreementWindow.DAYS + 1))  # the window's timer closes it
    final = await handle.result()
    assert final.status == "completed" and final.outcome.disagreement is None, final
    await _save(handle, "amendment_denied_no_disagreement")


async def test_record_revocation_histories(
    recorder: Harness, registered_env: WorkflowEnvironment
) -> None:
    h, env = recorder, registered_env
    now = await env.get_current_time()
    request = await h.start(factories.third_party(received_at=now.isoformat()))
    state = await h.wait_status(request, Status.AWAITING_VERIFICATION)
    await request.execute_update(
        W.verify,
        actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.KNOWN_PROVIDER),
    )
    await h.wait_status(request, Status.READY_TO_RELEASE)
    revocation = await h.start_case(
        factories.revocation([state.tracking_number], received_at=now.isoformat())
    )
    outcome = await revocation.result()
    assert outcome.outcome.revoked == [state.tracking_number], outcome
    assert outcome.outcome.released_before == [], outcome
    assert (await request.result()).status == "cancelled"
    await _save(revocation, "revocation_applied")
    await _save(request, "third_party_stopped_by_revocation")


async def test_record_billing_and_data_integrity_histories(
    recorder: Harness, registered_env: WorkflowEnvironment
) -> None:
    h, env = recorder, registered_env
    now = await env.get_current_time()
    handle = await h.start_case(factories.billing(received_at=now.isoformat()))
    await h.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        BillingWorkflow.answer,
        actions.Answer(actor="billing.lee", text="Itemized statement enclosed."),
    )
    assert (await handle.result()).status == "completed"
    await _save(handle, "billing_answered")

    notice = factories.deceased_notice(received_at=now.isoformat())
    # a patient of this history only: the factories' patient stays alive for the others
    notice["patient"] = {**notice["patient"], "first_name": "Replay"}
    handle = await h.start_case(notice)
    await h.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        DataIntegrityWorkflow.confirm, actions.ConfirmUpdate(actor="di.sam")
    )
    assert (await handle.result()).status == "completed"
    await _save(handle, "deceased_confirmed")

    handle = await h.start_case(factories.adoption_notice(received_at=now.isoformat()))
    await h.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        DataIntegrityWorkflow.confirm, actions.ConfirmUpdate(actor="di.sam", complete_copy=True)
    )
    assert (await handle.result()).status == "completed"
    await _save(handle, "adoption_confirmed")


async def test_record_accounting_histories(
    recorder: Harness, registered_env: WorkflowEnvironment
) -> None:
    h, env = recorder, registered_env
    now = await env.get_current_time()
    patient = factories.accounting()["patient"]
    record_staff_disclosure(
        h.database_url,
        StaffDisclosure(
            patient_first_name=patient["first_name"],
            patient_last_name=patient["last_name"],
            patient_date_of_birth=date.fromisoformat(patient["date_of_birth"]),
            disclosed_at=now - timedelta(days=400),
            recipient_name="County District Court",
            description="Records",
            purpose="court_order",
            category="court_order",
        ),
        actor=STAFF,
    )
    handle = await h.start_case(factories.accounting(received_at=now.isoformat()))
    state = await h.wait_case(handle, Status.UNDER_REVIEW)
    # the 60-day clock's legal-risk timer fires (a few business days before the due date)
    await h.skip(state.clock.legal_risk_at - now + timedelta(hours=1))
    await _recorded(h, state.request_id, "sla.legal_risk")
    await handle.execute_update(AccountingWorkflow.complete, actions.Complete(actor=STAFF))
    final = await handle.result()
    assert final.status == "completed" and final.outcome.entries >= 1, final
    await _save(handle, "accounting_sent")

    await skip_time(env, timedelta(days=1))
    now = await env.get_current_time()
    handle = await h.start_case(factories.accounting(received_at=now.isoformat()))
    await h.wait_case(handle, Status.AWAITING_REQUESTER)
    await handle.execute_update(
        AccountingWorkflow.respond_to_fee,
        actions.FeeResponse(actor="patient-portal", accept=True, payment_reference="CARD-1"),
    )
    await h.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(AccountingWorkflow.complete, actions.Complete(actor=STAFF))
    assert (await handle.result()).status == "completed"
    await _save(handle, "accounting_fee_accepted_sent")


async def test_record_proxy_histories(
    recorder: Harness, registered_env: WorkflowEnvironment
) -> None:
    h, env = recorder, registered_env
    now = await env.get_current_time()
    handle = await h.start_case(factories.proxy_for_minor(received_at=now.isoformat()))
    await h.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        ProxyAccessWorkflow.decide,
        actions.ProxyDecision(actor="di.sam", approve=True, documents_verified=True),
    )
    await h.wait_case(handle, Status.ACTIVE)
    await skip_time(env, timedelta(days=3))
    await handle.execute_update(
        ProxyAccessWorkflow.revoke, actions.Cancel(actor="di.sam", reason="Custody order changed")
    )
    final = await handle.result()
    assert final.outcome.ended_because == "revoked", final
    await _save(handle, "proxy_minor_granted_revoked")

    # an adult's court-appointed guardian, until the order's end date: the expiry is a timer
    ends_on = now.date() + timedelta(days=90)
    data = factories.proxy_for_minor(
        received_at=now.isoformat(),
        basis="legal_guardian",
        patient=factories.own_records()["patient"],
        documents=[{"kind": "guardianship order", "ends_on": ends_on.isoformat()}],
    )
    data["requester"] = {**data["requester"], "relationship": "legal_representative"}
    handle = await h.start_case(data)
    await h.wait_case(handle, Status.UNDER_REVIEW)
    await handle.execute_update(
        ProxyAccessWorkflow.decide,
        actions.ProxyDecision(actor="di.sam", approve=True, documents_verified=True),
    )
    state = await h.wait_case(handle, Status.ACTIVE)
    assert state.outcome.expires_on == ends_on, state.outcome
    await h.skip(timedelta(days=92))
    final = await handle.result()
    assert final.status == "expired" and final.outcome.ended_because == "expired"
    await _save(handle, "proxy_guardian_expired")


@pytest.fixture
async def batch_recorder(
    registered_env: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    if not RECORDING:
        pytest.skip("set ROI_RECORD_HISTORIES=1 to record histories")
    async with batching_worker(registered_env, database_url, tmp_path) as harness:
        yield harness


async def test_record_site_batch_histories(
    batch_recorder: Harness, registered_env: WorkflowEnvironment
) -> None:
    h, env = batch_recorder, registered_env
    now = (await env.get_current_time()).isoformat()
    mail = await h.start(factories.third_party(received_at=now))
    cd = await h.start(
        factories.own_records(kind="imaging", delivery_method="cd_mail", received_at=now)
    )
    for handle in (mail, cd):
        await h.wait_status(handle, Status.AWAITING_VERIFICATION)
        await handle.execute_update(W.verify, VERIFY)
        await h.wait_status(handle, Status.READY_TO_RELEASE)
        await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
        await h.wait_status(handle, Status.QUEUED_FOR_BATCH)

    batch = await h.client.start_workflow(
        SiteBatchWorkflow.run,
        BatchRunInput(site=Site.MINNESOTA, trigger="manual"),
        id=f"roi-batch-minnesota-replay-{uuid.uuid4().hex[:8]}",
        task_queue=h.task_queue,
        result_type=BatchResult,
    )
    result = await batch.result()
    assert result.sent >= 2 and result.held == 0, result
    for handle in (mail, cd):
        assert (await handle.result()).status == "completed"
    await _save(batch, "site_batch_mail_and_cd")
    await _save(mail, "mail_sent_by_site_batch")


async def test_record_outside_records_reply_history(recorder: Harness) -> None:
    result = await recorder.submit(
        {
            "kind": "outside_records",
            "site": "wisconsin",
            "channel": "email",
            "received_at": "2026-11-20T16:00:00+00:00",
            "sender_name": "Lakeshore Family Clinic",
            "sender_email": "records@lakeshore.example",
        }
    )
    assert result.redirected
    handle = recorder.client.get_workflow_handle(f"outside-reply-{result.submission_id}")
    await handle.result()
    await _save(handle, "outside_records_reply_email")
