"""Case workflows' typed start, state and outcome read what was recorded before they were typed.

The recorded histories (tests/histories) carry each case's start as plain JSON (the kind's
submission a dict) and every projection's state with its outcome a dict. Decoded with today's
models, each must come back as the kind's own submission model and the same facts, and
serialize to the very JSON it was read from: the read model and any history written before
keep their shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload

from domain.kinds.accounting import AccountingRequest
from domain.kinds.adoption import AdoptionNotice
from domain.kinds.amendment import AmendmentDenialBasis, AmendmentRequest, PersonToNotify
from domain.kinds.billing import BillingRequest
from domain.kinds.case import AnyState, CaseOutcome, CaseStart, CaseState
from domain.kinds.deceased import DeceasedNotice
from domain.kinds.proxy import ProxyRequest
from domain.kinds.revocation import RevocationRequest
from domain.state import RequestState
from services.temporal import converter

HISTORIES = Path(__file__).parents[1] / "histories"
SUBMISSION = {
    "AmendmentWorkflow": AmendmentRequest,
    "RevocationWorkflow": RevocationRequest,
    "ProxyAccessWorkflow": ProxyRequest,
    "BillingWorkflow": BillingRequest,
    "AccountingWorkflow": AccountingRequest,
}


def _workflow_type(history: dict[str, Any]) -> str:
    started = history["events"][0]["workflowExecutionStartedEventAttributes"]
    return str(started["workflowType"]["name"])


def _case_histories() -> list[Path]:
    found = []
    for path in sorted(HISTORIES.glob("*.json")):
        wtype = _workflow_type(json.loads(path.read_text()))
        if wtype.endswith("Workflow") and wtype not in (
            "RecordRequestWorkflow",
            "SiteBatchWorkflow",
            "OutsideRecordsReplyWorkflow",
            "InboundDocumentWorkflow",
            "InboundPollWorkflow",
        ):
            found.append(path)
    return found


async def _decoded(payloads: list[dict[str, Any]]) -> list[Any]:
    """The JSON of sealed payloads, opened by the codec as a worker would."""
    codec = converter().payload_codec
    assert codec is not None
    opened = await codec.decode([json_format.ParseDict(p, Payload()) for p in payloads])
    return [json.loads(p.data) for p in opened]


def _typed_parts_of(state: dict[str, Any]) -> dict[str, Any]:
    """The start and the outcome: what was a dict before (other fields, such as the fee
    quote, have grown fields since these histories were recorded)."""
    return {"start": state["start"], "outcome": state["outcome"]}


def _typed_parts(state: CaseState) -> dict[str, Any]:
    return _typed_parts_of(state.model_dump(mode="json"))


def test_every_case_kind_has_a_recorded_history() -> None:
    kinds = {_workflow_type(json.loads(p.read_text())) for p in _case_histories()}
    assert kinds == {*SUBMISSION, "DataIntegrityWorkflow"}


@pytest.mark.parametrize("path", _case_histories(), ids=lambda p: p.stem)
async def test_recorded_case_json_decodes_typed_and_keeps_its_shape(path: Path) -> None:
    history = json.loads(path.read_text())
    started = history["events"][0]["workflowExecutionStartedEventAttributes"]
    [raw_start] = await _decoded(started["input"]["payloads"])
    start = CaseStart.model_validate(raw_start)
    wanted = SUBMISSION.get(_workflow_type(history), (DeceasedNotice, AdoptionNotice))
    assert isinstance(start.submission, wanted), type(start.submission)
    assert start.model_dump(mode="json") == raw_start
    outcomes, finished = [], False
    for event in history["events"]:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled and scheduled["activityType"]["name"] == "project_case":
            [projection] = await _decoded(scheduled["input"]["payloads"])
            state = CaseState.model_validate(projection["state"])
            assert _typed_parts(state) == _typed_parts_of(projection["state"])
            outcomes.append(state.outcome)
        completed = event.get("workflowExecutionCompletedEventAttributes")
        if completed:
            [result] = await _decoded(completed["result"]["payloads"])
            assert _typed_parts(CaseState.model_validate(result)) == _typed_parts_of(result)
            finished = True
    # after local-read-model-writes-v1 the projection is a local activity: its input is not in
    # the history, and the final state (the result) is what there is to check
    assert outcomes or finished, f"{path.name}: no projection or result to check"


def test_an_outcome_holds_only_what_was_set() -> None:
    outcome = CaseOutcome()
    assert outcome.model_dump(mode="json") == {}
    outcome.expires_on = None  # set, to None: kept, as the dict kept the key
    outcome.denial_basis = AmendmentDenialBasis.ACCURATE_AND_COMPLETE
    outcome.holders = [PersonToNotify(name="Example Imaging Center")]
    assert outcome.model_dump(mode="json") == {
        "expires_on": None,
        "denial_basis": "accurate_and_complete",
        "holders": [{"name": "Example Imaging Center", "address_lines": [], "email": None}],
    }
    again = CaseOutcome.model_validate_json(outcome.model_dump_json())
    assert again == outcome and again.model_fields_set == outcome.model_fields_set


@pytest.mark.parametrize("path", _case_histories()[:1], ids=lambda p: p.stem)
async def test_any_state_is_the_model_that_validates(path: Path) -> None:
    """A status answer is a case's state or a records copy's, by which model validates."""
    history = json.loads(path.read_text())
    scheduled = next(
        e["activityTaskScheduledEventAttributes"]
        for e in history["events"]
        if e.get("activityTaskScheduledEventAttributes", {}).get("activityType", {}).get("name")
        == "project_case"
    )
    [projection] = await _decoded(scheduled["input"]["payloads"])
    assert isinstance(AnyState.model_validate(projection["state"]).root, CaseState)
    request = json.loads((HISTORIES / "own_records_email_before_codec.json").read_text())
    project = next(
        e["activityTaskScheduledEventAttributes"]
        for e in request["events"]
        if e.get("activityTaskScheduledEventAttributes", {}).get("activityType", {}).get("name")
        == "project_request"
    )
    [raw] = await _decoded(project["input"]["payloads"])
    assert isinstance(AnyState.model_validate(raw["state"]).root, RequestState)
