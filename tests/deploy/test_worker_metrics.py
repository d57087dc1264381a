"""The worker's two metrics ports: Temporal SDK metrics and our own counters."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from config import metrics
from domain import actions
from domain.types import Status
from services.temporal import connect
from tests import factories
from tests.deploy.conftest import SDK_METRICS, free_port, target_of
from tests.deploy.test_web_metrics import samples
from tests.harness import running_worker
from workflows.record_request import RecordRequestWorkflow as W


async def scrape(port: int) -> str:
    def get() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.read().decode()

    return await asyncio.to_thread(get)


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def test_worker_reports_sdk_metrics_and_letters_and_deliveries(
    deploy_env: WorkflowEnvironment, deploy_db: str, tmp_path: Path
) -> None:
    sdk_port, ours_port = free_port(), free_port()
    runtime = metrics.temporal_runtime("127.0.0.1", sdk_port)
    assert runtime is not None and metrics.temporal_runtime("127.0.0.1", 0) is None
    metrics.serve_process_metrics("127.0.0.1", ours_port)
    client = await connect(target_of(deploy_env), runtime=runtime)

    before = await scrape(ours_port)
    async with running_worker(client, deploy_db, tmp_path / "outbox", deploy_env) as h:
        handle = await h.start(
            factories.own_records(received_at=(await deploy_env.get_current_time()).isoformat())
        )
        await h.wait_status(handle, Status.AWAITING_VERIFICATION)
        verify = actions.VerifyIdentity(
            actor="spec.ops", method=actions.IdentityMethod.PORTAL_ACCOUNT
        )
        await handle.execute_update(W.verify, verify)
        await handle.execute_update(W.complete, actions.Complete(actor="spec.ops"))
        await handle.result()
        sdk = await scrape(sdk_port)
        for _ in range(50):  # the completion counter is exported a moment after the result
            if {name for name, _ in samples(sdk)} >= SDK_METRICS:
                break
            await asyncio.sleep(0.1)
            sdk = await scrape(sdk_port)
    after = await scrape(ours_port)

    letters = "roi_letters_rendered_total"
    ack = {"kind": "acknowledgement", "language": "en"}
    done = {"kind": "completion", "language": "en"}
    assert value(after, letters, **ack) == value(before, letters, **ack) + 1
    assert value(after, letters, **done) == value(before, letters, **done) + 1
    sent = {"channel": "email", "method": "email_link"}
    deliveries = "roi_deliveries_total"
    assert value(after, deliveries, **sent) == value(before, deliveries, **sent) + 1

    # Temporal's own figures, as the alert rules and the runbook use them
    names = {name for name, _ in samples(sdk)}
    missing = SDK_METRICS - names
    assert not missing, sorted(n for n in names if n.startswith("temporal_"))
    assert "Testpatient" not in sdk and "Testpatient" not in after
