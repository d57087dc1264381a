"""Recorded workflow histories must replay against today's workflow code.

A failure here means a change would break requests already running in production: guard the
change with workflow.patched(...) instead. To record fresh histories after an intentional,
patched change: ROI_RECORD_HISTORIES=1 scripts/test tests/test_replay.py
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain import actions
from domain.calendar import warm_calendars
from domain.types import Status
from services.temporal import converter
from tests import factories
from tests.harness import Harness, running_worker
from workflows.record_request import RecordRequestWorkflow as W
from workflows.runner import workflow_runner

HISTORIES = Path(__file__).parent / "histories"
RECORDING = os.environ.get("ROI_RECORD_HISTORIES") == "1"
STAFF = "spec.replay"


def history_files() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_histories_are_checked_in() -> None:
    names = {p.stem for p in history_files()}
    assert {"own_records_email", "third_party_corrected_fedex", "clocks_extension_breach"} <= names


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "no-sandbox"])
@pytest.mark.parametrize("path", history_files(), ids=lambda p: p.stem)
async def test_history_replays_without_nondeterminism(path: Path, sandboxed: bool) -> None:
    """Under the sandbox (development, CI) and without it (ROI_WORKFLOW_SANDBOX=false)."""
    warm_calendars()
    replayer = Replayer(
        workflows=[W],
        data_converter=converter(),
        workflow_runner=workflow_runner(sandboxed),
    )
    history = json.loads(path.read_text())
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json(path.stem, history),
        raise_on_replay_failure=False,
    )
    assert result.replay_failure is None, result.replay_failure


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


async def _save(handle: WorkflowHandle, name: str) -> None:
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(json.dumps(history.to_json_dict(), indent=1))


async def test_record_histories(recorder: Harness, registered_env: WorkflowEnvironment) -> None:
    h, env = recorder, registered_env
    verify = actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PHOTO_ID)
    now = await env.get_current_time()

    handle = await h.start(factories.own_records(received_at=now.isoformat()))
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.verify, verify)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    await handle.result()
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
    await handle.execute_update(W.verify, verify)
    await handle.execute_update(
        W.record_payment, actions.RecordPayment(actor=STAFF, amount_cents=4500, reference="R-1")
    )
    await handle.execute_update(W.add_note, actions.AddNote(actor=STAFF, text="Paid by card"))
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    await handle.result()
    await _save(handle, "third_party_corrected_fedex")

    handle = await h.start(factories.own_records(received_at=now.isoformat(), site="florida"))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await env.sleep(timedelta(days=15))
    await handle.execute_update(
        W.extend,
        actions.Extend(
            actor=STAFF,
            reason="Archived records",
            new_due_date=state.clock.due_date + timedelta(days=10),
        ),
    )
    await env.sleep(timedelta(days=30))
    await handle.execute_update(W.cancel, actions.Cancel(actor=STAFF, reason="Withdrawn"))
    await handle.result()
    await _save(handle, "clocks_extension_breach")
