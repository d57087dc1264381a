"""One trace from the intake API call through the workflow and its activities."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from app.accounts import create_api_token
from app.config import WebSettings
from app.main import create_app
from config import tracing
from config.settings import Settings
from services.temporal import connect
from store.db import session_scope
from store.models import OutboundItem
from tests import factories
from tests.deploy.conftest import target_of
from tests.harness import running_worker
from tests.web.helpers import client


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for this test only."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.install(None)
    provider.shutdown()


async def _letter_sent(database_url: str, request_id: str) -> None:
    for _ in range(200):
        with session_scope(database_url) as session:
            sent = session.execute(
                select(OutboundItem.id).where(OutboundItem.request_id == request_id)
            ).first()
        if sent is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the acknowledgement letter was never sent")


def _named(spans: tuple[ReadableSpan, ...], prefix: str) -> ReadableSpan:
    found = [s for s in spans if s.name.startswith(prefix)]
    assert found, f"no {prefix} span among {sorted({s.name for s in spans})}"
    return found[0]


async def test_one_trace_spans_api_workflow_and_activities(
    spans: InMemorySpanExporter, deploy_env: WorkflowEnvironment, deploy_db: str, tmp_path: Path
) -> None:
    traced = await connect(target_of(deploy_env))  # carries the tracing interceptor now
    async with running_worker(traced, deploy_db, tmp_path / "outbox", deploy_env) as h:
        app = create_app(
            Settings(task_queue=h.task_queue, outbox_dir=h.outbox),
            database_url=deploy_db,
            temporal_client=traced,
            web=WebSettings(cookie_secure=True),
        )
        token = create_api_token(deploy_db, "trace-test")
        received = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        async with client(app) as c:
            response = await c.post(
                "/api/v1/requests/access_own",
                json=factories.own_records(received_at=received),
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 201, response.text
        request_id = response.json()["request_id"]
        h.started.append(f"roi-{request_id}")
        await _letter_sent(deploy_db, request_id)
        await asyncio.sleep(0.2)  # the activity span ends just after its row is written

    finished = spans.get_finished_spans()
    api = next(s for s in finished if s.kind == SpanKind.SERVER and "/api/v1/requests" in s.name)
    start = _named(finished, "StartWorkflow:RecordRequestWorkflow")
    run = _named(finished, "RunWorkflow:RecordRequestWorkflow")
    letter = _named(finished, "RunActivity:send_notice")
    project = _named(finished, "RunActivity:project")

    trace_id = api.context.trace_id
    assert {s.context.trace_id for s in (start, run, letter, project)} == {trace_id}
    assert api.parent is None  # the API call is the root
    by_id = {s.context.span_id: s for s in finished}

    def ancestors(span: ReadableSpan) -> list[str]:
        chain = []
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            chain.append(span.name)
        return chain

    assert api.name in ancestors(start) and start.name in ancestors(run)
    # the workflow schedules the activity (StartActivity), the worker runs it (RunActivity)
    assert ancestors(letter)[:2] == ["StartActivity:send_notice", start.name]
    # no PHI in any span: names, addresses, emails and dates of birth stay out
    text = repr([(s.name, dict(s.attributes or {})) for s in finished])
    for phi in ("Testpatient", "Avery", "1984-03-09", "example.org", "Example Ave"):
        assert phi not in text
