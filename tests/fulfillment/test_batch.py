"""The site batch: mail, CD and FedEx requests wait for it; a run builds one print-ready PDF
(cover, records, separator per request; never two patients interleaved) and a manifest, burns
CDs, ships FedEx, and hands each request back. Running it again, or after a failure half-way,
never sends anything twice."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from activities.channels.batch import queued_items
from config.settings import Settings, get_settings
from domain import actions
from domain.batch import BatchResult, BatchRunInput
from domain.types import Site, Status
from fakes.carrier import FakeCarrier
from fakes.records import write_patient
from starter import app
from store import board
from store.db import session_scope
from tests import factories
from tests.fulfillment.conftest import AVERY, channel_worker
from tests.fulfillment.helpers import pages_text, release
from tests.harness import Harness
from workflows.batch import SiteBatchWorkflow
from workflows.record_request import RecordRequestWorkflow as W

BLAKE = {"first_name": "Blake", "last_name": "Sampleton", "date_of_birth": "1990-12-01"}


@pytest.fixture
async def hb(
    registered_env: WorkflowEnvironment, database_url: str, settings: Settings, records: Path
) -> AsyncIterator[Harness]:
    write_patient(
        records,
        "blake",
        BLAKE,
        [
            {
                "id": "b-visit",
                "record_type": "visit_notes",
                "title": "Blake visit",
                "service_date": "2025-01-05",
                "pages": 3,
            },
        ],
    )
    batched = settings.model_copy(update={"batch_enabled": True})
    async with channel_worker(registered_env, database_url, batched) as harness:
        yield harness


def blake(**overrides: Any) -> dict[str, Any]:
    data = factories.third_party(**overrides)
    data["patient"] = {**BLAKE, "mrn": None}
    return data


async def queue(h: Harness, data: dict[str, Any], paid: int | None = None) -> WorkflowHandle:
    handle = await h.start(data)
    await release(h, handle, paid_cents=paid)
    await h.wait_status(handle, Status.QUEUED_FOR_BATCH)
    return handle


async def run_batch(h: Harness, site: Site = Site.MINNESOTA) -> BatchResult:
    return await h.client.execute_workflow(
        SiteBatchWorkflow.run,
        BatchRunInput(site=site, trigger="manual"),
        id=f"batch-test-{uuid.uuid4().hex[:8]}",
        task_queue=h.task_queue,
        result_type=BatchResult,
    )


async def test_batch_builds_mail_cd_fedex_once_and_hands_each_request_back(
    hb: Harness, registered_env: WorkflowEnvironment, carrier: tuple[FakeCarrier, str]
) -> None:
    h = hb
    fake, _ = carrier
    now = (await registered_env.get_current_time()).isoformat()
    avery_mail = await queue(h, factories.third_party(received_at=now))
    blake_mail = await queue(h, blake(received_at=now))
    cd_data = factories.own_records(kind="imaging", delivery_method="cd_mail", received_at=now)
    cd = await queue(h, cd_data)
    fedex = await queue(h, factories.imaging_fedex(received_at=now), paid=4500)
    ids = {
        name: (await h.state(x)).request_id
        for name, x in [("avery", avery_mail), ("blake", blake_mail), ("cd", cd), ("fedex", fedex)]
    }
    shipments_before = len(fake.shipments)
    with session_scope(h.database_url) as session:  # what a preview shows
        waiting = {i.request_id for i in queued_items(session, "minnesota")}
    assert set(ids.values()) <= waiting
    assert not list((h.outbox / "print").glob("batch-*.pdf"))  # nothing left yet

    first = await run_batch(h)
    assert first.sent >= 4 and first.held == 0
    for handle in (avery_mail, blake_mail, cd, fedex):
        assert (await h.wait_status(handle, Status.COMPLETED)).status == Status.COMPLETED

    [pdf] = list((h.outbox / "print").glob(f"batch-*{first.batch_id}.pdf"))
    [manifest] = list((h.outbox / "print").glob(f"batch-*{first.batch_id}-manifest.csv"))
    pages = pages_text(pdf.read_bytes())
    rows = list(csv.DictReader(io.StringIO(manifest.read_text())))
    by_request = {r["request_id"]: r for r in rows}
    assert set(by_request) == {ids["avery"], ids["blake"]}
    for name, patient in (("avery", "Avery Fulfiltest"), ("blake", "Blake Sampleton")):
        row = by_request[ids[name]]
        packet = pages[int(row["first_page"]) - 1 : int(row["last_page"])]
        other = "Blake" if name == "avery" else "Avery Fulfiltest"
        assert not any(other in p for p in packet)  # never interleaved
        assert "END OF PACKET" in packet[-1] and row["reference"] in packet[-1]
        assert all(patient in p for p in packet[1:-1])  # every record page: the right patient
        assert "55 Main St Suite 400" in packet[0]  # the cover carries the address
    assert len(pages) == int(rows[-1]["last_page"])
    assert (h.outbox / "cd" / f"{ids['cd']}-deliver.iso").exists()
    assert len(fake.shipments) == shipments_before + 1
    for rid in ids.values():
        assert len(h.disclosures(rid)) == 1
        assert [e.action for e in h.events(rid)].count("release.sent_by_batch") == 1

    with session_scope(h.database_url) as session:  # the supervisors' board
        [row] = board.batch_rows(session, ["minnesota"], datetime.now(UTC), "15:00")
    assert row.last_status == "finished" and row.last_sent == first.sent and row.waiting == 0
    assert row.next_at > datetime.now(UTC) and row.next_at.tzname() in ("CST", "CDT")

    again = await run_batch(h)  # a re-run sends nothing twice
    assert again.sent == 0 and again.announced_again == 0
    assert len(fake.shipments) == shipments_before + 1
    assert len(list((h.outbox / "print").glob("batch-*.pdf"))) == 1
    for rid in ids.values():
        assert len(h.disclosures(rid)) == 1


async def test_a_run_that_fails_half_way_is_finished_by_the_next_without_sending_twice(
    hb: Harness, registered_env: WorkflowEnvironment, carrier: tuple[FakeCarrier, str]
) -> None:
    h = hb
    fake, _ = carrier
    now = (await registered_env.get_current_time()).isoformat()
    handles = [
        await queue(h, factories.imaging_fedex(received_at=now), paid=4500) for _ in range(2)
    ]
    ids = [(await h.state(x)).request_id for x in handles]
    fake.reject_calls = {fake.ship_calls + 2}  # the carrier refuses the second shipment
    with pytest.raises(WorkflowFailureError):
        await run_batch(h)
    assert (await h.state(handles[1])).status == Status.QUEUED_FOR_BATCH

    second = await run_batch(h)
    assert second.sent == 1 and second.announced_again == 1  # the first one, told again
    for handle in handles:
        await h.wait_status(handle, Status.COMPLETED)
    refs = [
        s["request"]["requestedShipment"]["requestedPackageLineItems"][0]["customerReferences"][0][
            "value"
        ]
        for s in fake.shipments.values()
    ]
    assert sorted(r for r in refs if r.split("-")[0] in ids) == sorted(
        f"{rid}-deliver" for rid in ids
    )  # each shipped exactly once
    for rid in ids:
        assert len(h.disclosures(rid)) == 1


async def test_cli_previews_and_runs_a_sites_batch(
    hb: Harness, registered_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = hb
    monkeypatch.setenv("ROI_DATABASE_URL", h.database_url)
    monkeypatch.setenv("ROI_TEMPORAL_ADDRESS", h.client.service_client.config.target_host)
    monkeypatch.setenv("ROI_TASK_QUEUE", h.task_queue)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        now = (await registered_env.get_current_time()).isoformat()
        handle = await queue(h, factories.third_party(received_at=now, site="wisconsin"))
        tracking = (await h.state(handle)).tracking_number

        code, out = await roi("batch", "preview", "--site", "wisconsin")
        assert code == 0 and tracking in out and "us_mail" in out and "next run" in out

        code, out = await roi("batch", "run", "--site", "wisconsin")
        assert code == 0, out
        assert "roi-batch-wisconsin-manual" in out and "│ 1    │" in out  # sent 1
        assert await h.wait_status(handle, Status.COMPLETED)
        code, out = await roi("batch", "preview", "--site", "wisconsin")
        assert tracking not in out and "nothing queued" in out
    finally:
        get_settings.cache_clear()


async def roi(*args: str) -> tuple[int, str]:
    """Run the CLI in a thread so the test's worker keeps running on this event loop."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


async def test_a_batch_hold_goes_back_to_a_specialist_and_the_next_batch_sends_it(
    hb: Harness, registered_env: WorkflowEnvironment, records: Path
) -> None:
    h = hb
    now = (await registered_env.get_current_time()).isoformat()
    handle = await queue(h, factories.third_party(received_at=now, site="florida"))
    rid = (await h.state(handle)).request_id
    # after approval, a document of a same-named patient (another MRN) is filed under the name
    intruder = write_patient(
        records,
        "avery-other",
        {**AVERY, "mrn": "MRN-0000999"},
        [{"id": "x-2024", "record_type": "visit_notes", "service_date": "2024-06-01", "pages": 1}],
    )
    held = await run_batch(h, Site.FLORIDA)
    assert held.held == 1 and held.sent == 0
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    [event] = [e for e in h.events(rid) if e.action == "release.held"]
    assert event.detail["codes"] == ["patient_mismatch"] and event.detail["batch"]
    assert not list((h.outbox / "print").glob(f"batch-*{held.batch_id}.pdf"))

    for path in intruder.iterdir():  # the misfiled document is corrected
        path.unlink()
    intruder.rmdir()
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    await handle.execute_update(W.complete, actions.Complete(actor="spec.jlee"))
    await h.wait_status(handle, Status.QUEUED_FOR_BATCH)
    sent = await run_batch(h, Site.FLORIDA)
    assert sent.sent == 1
    assert (await h.wait_status(handle, Status.COMPLETED)).status == Status.COMPLETED
    assert len(h.disclosures(rid)) == 1
