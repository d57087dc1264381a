"""Patient data is sealed in Temporal: on a real dev server, a request run to completion leaves
a history in which no payload, failure or attribute shows the patient's name, date of birth,
MRN, address, email or phone, read the way anyone with access to Temporal would read it (the
`temporal` CLI, no codec). With the engine's codec, the same history opens normally."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload

from config.codec import codec_from
from config.settings import Settings
from domain import actions
from domain.ids import workflow_id_for
from domain.types import Status
from fakes.records import synthetic_patient
from services import intake, staff
from services.temporal import connect
from tests import factories
from tests.stack import Stack, wait_for
from workflows.record_request import RecordRequestWorkflow

pytestmark = pytest.mark.integration

KEY = f"it-{uuid.uuid4().hex[:6]}:{base64.b64encode(os.urandom(32)).decode()}"
TEMPORAL = Path(sys.executable).parent / "temporal"


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    s = Stack(tmp_path, database_url, extra_env={"ROI_PAYLOAD_KEYS": KEY})
    s.start_server()
    yield s
    s.close()


def _phi(submission: dict[str, Any]) -> list[str]:
    patient, contact = submission["patient"], submission["requester"]["contact"]
    return [
        patient["last_name"],
        patient["date_of_birth"],
        patient["mrn"],
        contact["address"]["line1"],
        contact["email"],
        contact["phone"],
    ]


def _write_records(root: Path, submission: dict[str, Any]) -> None:
    """The patient's synthetic records in the worker's folder source (sources never invent)."""
    synthetic_patient(root, submission["patient"])


def _payload_texts(node: Any) -> Iterator[str]:
    """Every payload's data in a JSON history, base64-decoded (how the CLI prints bytes)."""
    if isinstance(node, dict):
        data = node.get("data")
        if isinstance(data, str) and "metadata" in node:
            yield base64.b64decode(data).decode("utf-8", "replace")
        for value in node.values():
            yield from _payload_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _payload_texts(value)


def _leaks(raw: str, phi: list[str]) -> list[str]:
    texts = [raw, *_payload_texts(json.loads(raw))]
    return [value for value in phi if any(value.lower() in text.lower() for text in texts)]


async def test_history_without_the_codec_shows_no_phi(stack: Stack, tmp_path: Path) -> None:
    submission = factories.own_records()
    _write_records(stack.records, submission)
    stack.start_worker()
    settings = Settings(payload_keys=KEY, env="test")
    client = await connect(stack.address, settings=settings)
    result = await intake.submit(
        submission,
        database_url=stack.database_url,
        client=client,
        task_queue=stack.task_queue,
        source="test",
        idempotency_key=f"it-{uuid.uuid4().hex}",
    )
    assert result.accepted and result.request_id
    rid = result.request_id

    async def stage() -> bool:
        return (await staff.current_state(client, rid)).status == Status.AWAITING_VERIFICATION

    await wait_for(stage)
    verify = actions.VerifyIdentity(actor="spec.it", method=actions.IdentityMethod.PHOTO_ID)
    await staff.perform(client, rid, verify)
    await staff.perform(client, rid, actions.Complete(actor="spec.it"))
    handle = client.get_workflow_handle_for(RecordRequestWorkflow.run, workflow_id_for(rid))
    outcome = await asyncio.wait_for(handle.result(), timeout=90)
    assert outcome.status == "completed"  # with the codec, the workflow reads normally

    command = [str(TEMPORAL), "workflow", "show", "--address", stack.address, "-o", "json"]
    shown = subprocess.run(
        [*command, "-w", handle.id],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    raw = shown.stdout
    (tmp_path / "history-without-codec.json").write_text(raw)
    phi = _phi(submission)
    assert _leaks(raw, phi) == []
    assert "YmluYXJ5L2VuY3J5cHRlZA==" in raw  # "binary/encrypted": payloads are sealed

    # The check above can fail: the same history opened with the engine's codec shows the PHI.
    history = await handle.fetch_history()
    codec = codec_from(KEY)
    opened: list[str] = []
    for event in history.events:
        attributes = event.workflow_execution_started_event_attributes
        for payload in attributes.input.payloads:
            (plain,) = await codec.decode([Payload.FromString(payload.SerializeToString())])
            opened.append(plain.data.decode())
    assert any(submission["patient"]["last_name"] in text for text in opened)
