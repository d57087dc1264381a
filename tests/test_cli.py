"""The `roi` CLI as a specialist uses it: submit, status, actions, refusals, bad input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from domain.types import Status
from runtime.settings import get_settings
from services import intake
from starter import app
from store.db import session_scope
from store.models import IntakeSubmission
from tests import factories
from tests.harness import Harness

runner = CliRunner()


@pytest.fixture
def cli_env(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    target = harness.client.service_client.config.target_host
    monkeypatch.setenv("ROI_DATABASE_URL", harness.database_url)
    monkeypatch.setenv("ROI_TEMPORAL_ADDRESS", target)
    monkeypatch.setenv("ROI_TASK_QUEUE", harness.task_queue)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield harness
    get_settings.cache_clear()


async def roi(*args: str) -> tuple[int, str]:
    """Run the CLI in a thread so the test's worker keeps running on this event loop."""
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def write(tmp_path: Path, name: str, data: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


async def test_bad_input_lists_every_field_and_exits_non_zero(
    cli_env: Harness, tmp_path: Path
) -> None:
    data = factories.own_records(delivery_method="pigeon")
    data["patient"]["date_of_birth"] = "not a date"
    code, out = await roi("submit", write(tmp_path, "bad.json", data))
    assert code == 1
    assert "patient.date_of_birth" in out and "delivery_method" in out
    assert "kept for staff review" in out


async def test_submit_status_verify_complete(cli_env: Harness, tmp_path: Path) -> None:
    now = datetime.now(UTC)  # the CLI stamps with the wall clock
    code, out = await roi(
        "submit", write(tmp_path, "ok.json", factories.own_records(received_at=now.isoformat()))
    )
    assert code == 0, out
    tracking = next(w for w in out.split() if w.startswith("ROI-"))
    request_id = out.split("Request id: ")[1].split()[0]
    cli_env.started.append(f"roi-{request_id}")
    handle = cli_env.client.get_workflow_handle(f"roi-{request_id}")
    await cli_env.wait_status(handle, Status.AWAITING_VERIFICATION)

    code, out = await roi("status", tracking)
    assert code == 0 and "awaiting_verification" in out and "Legal due" in out

    code, out = await roi("complete", tracking, "--actor", "spec.cli")
    assert code == 1 and "not_verified" in out  # refused, with the reason and the field

    code, out = await roi("verify", tracking, "--actor", "spec.cli", "--method", "photo_id")
    assert code == 0 and "Identity verified" in out
    code, out = await roi("complete", tracking.lower(), "--actor", "spec.cli")
    assert code == 0, out
    assert (await handle.result())["status"] == "completed"

    code, out = await roi(
        "extend", tracking, "--actor", "a", "--reason", "r", "--new-due", "2027-02-30"
    )
    assert code == 1 and "YYYY-MM-DD" in out


async def test_unknown_reference(cli_env: Harness) -> None:
    code, out = await roi("status", "ROI-NOPE0-NOPE0")
    assert code == 2 and "No request" in out


async def test_submission_is_stored_when_temporal_is_down(
    cli_env: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)  # the CLI stamps with the wall clock
    monkeypatch.setenv("ROI_TEMPORAL_ADDRESS", "127.0.0.1:1")
    get_settings.cache_clear()
    code, out = await roi(
        "submit", write(tmp_path, "ok.json", factories.own_records(received_at=now.isoformat()))
    )
    assert code == 0 and "unreachable" in out, out
    request_id = out.split("Request id: ")[1].split()[0]
    with session_scope(cli_env.database_url) as session:
        stored = session.execute(
            select(IntakeSubmission).where(IntakeSubmission.request_id == request_id)
        ).scalar_one()
        assert stored.outcome == "accepted"
    # Temporal is back: reconcile (also run at worker start) starts it.
    started = await intake.reconcile(cli_env.database_url, cli_env.client, cli_env.task_queue)
    cli_env.started.extend(started)
    assert f"roi-{request_id}" in started
    await cli_env.wait_status(
        cli_env.client.get_workflow_handle(f"roi-{request_id}"), Status.AWAITING_VERIFICATION
    )


async def test_amendment_through_the_cli(cli_env: Harness, tmp_path: Path) -> None:
    data = factories.amendment(received_at=datetime.now(UTC).isoformat())
    code, out = await roi("submit", write(tmp_path, "amend.json", data))
    assert code == 0, out
    request_id = out.split("Request id: ")[1].split()[0]
    cli_env.started.append(f"roi-{request_id}")
    handle = cli_env.client.get_workflow_handle(f"roi-{request_id}")
    await cli_env.wait_case(handle, Status.UNDER_REVIEW)
    code, out = await roi(
        "amend-deny",
        request_id,
        "--actor",
        "amend.kim",
        "--basis",
        "too_busy",
        "--explanation",
        "x",
    )
    assert code != 0 and "too_busy" in out  # not one of the four bases
    code, out = await roi(
        "amend-accept", request_id, "--actor", "amend.kim", "--text", "Allergy removed."
    )
    assert code == 0, out
    assert (await handle.result())["status"] == "completed"
    code, out = await roi("status", request_id)
    assert code == 0 and "completed" in out and "amendment" in out
