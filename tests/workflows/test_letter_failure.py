"""A letter that cannot be produced is flagged to staff; the request itself carries on."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities import names
from domain import actions
from domain.effects import NoticeToSend
from domain.types import Status
from tests import factories
from tests.harness import Harness, channel_settings, fake_carrier
from tests.records import write_test_patients
from worker import build_worker, make_activities
from workflows.record_request import RecordRequestWorkflow as W


@activity.defn(name=names.SEND_NOTICE)
def broken_letters(item: NoticeToSend) -> str:
    """The renderer refuses (e.g. an address too long for the envelope window)."""
    raise ApplicationError(
        "recipient_address does not fit the window", type="LetterError", non_retryable=True
    )


async def test_failed_acknowledgement_is_flagged_not_fatal(
    registered_env: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> None:
    records = write_test_patients(tmp_path / "records")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with fake_carrier() as (_, carrier_url), ThreadPoolExecutor(4) as pool:
        real = make_activities(channel_settings(tmp_path, records, carrier_url), database_url)
        acts = [a for a in real if a.__name__ != "send_notice"] + [broken_letters]
        async with build_worker(registered_env.client, queue, acts, pool):
            h = Harness(
                client=registered_env.client,
                task_queue=queue,
                database_url=database_url,
                outbox=tmp_path,
                env=registered_env,
            )
            now = await registered_env.get_current_time()
            handle = await h.start(factories.own_records(received_at=now.isoformat()))
            state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
            events = [e for e in h.events(state.request_id) if e.action == "notice.failed"]
            assert events and events[0].detail["notice"] == "acknowledgement"
            assert "window" in events[0].detail["reason"]
            assert ("assignee", "notice_failed") in {
                (n.audience, n.kind) for n in h.notifications(state.request_id)
            }
            await handle.execute_update(W.cancel, actions.Cancel(actor="s", reason="test over"))
            await handle.result()
