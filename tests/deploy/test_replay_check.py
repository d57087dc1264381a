"""The pre-rollout replay check: live histories against the code about to be deployed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from domain.types import Status
from ops.replay_check import histories, replay
from services.temporal import connect
from tests import factories
from tests.deploy.conftest import ROOT, target_of
from tests.harness import running_worker


async def test_running_workflows_replay_against_this_code(
    deploy_env: WorkflowEnvironment, deploy_db: str, tmp_path: Path
) -> None:
    client = await connect(target_of(deploy_env))
    async with running_worker(client, deploy_db, tmp_path / "outbox", deploy_env) as h:
        handle = await h.start(
            factories.own_records(received_at=(await deploy_env.get_current_time()).isoformat())
        )
        await h.wait_status(handle, Status.AWAITING_VERIFICATION)
        checked, failed = await replay(histories(client, None, [handle.id], 10))
    assert (checked, failed) == (1, [])


async def test_a_change_that_breaks_running_workflows_is_caught() -> None:
    recorded = json.loads((ROOT / "tests/histories/own_records_email.json").read_text())
    # as if the workflow had been written to schedule a different first activity
    for event in recorded["events"]:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled:
            scheduled["activityType"]["name"] = "renamed_activity"
            break
    broken = WorkflowHistory.from_json("roi-broken", recorded)
    intact = WorkflowHistory.from_json(
        "roi-intact", json.loads((ROOT / "tests/histories/own_records_email.json").read_text())
    )

    async def both() -> AsyncIterator[WorkflowHistory]:
        yield intact
        yield broken

    checked, failed = await replay(both())
    assert (checked, failed) == (2, ["roi-broken"])
