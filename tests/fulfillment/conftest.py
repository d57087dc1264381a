"""Fixtures for the real channels: a local SMTP server (aiosmtpd), the fake carrier, a records
folder with synthetic patients, and a worker wired to all of them."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.case_activities import CaseActivities
from activities.channels.activities import ChannelActivities
from activities.channels.dispatch import Channels
from activities.channels.wiring import build_channels
from activities.outbox import Outbox
from activities.request_activities import RequestActivities
from activities.sources.folder import FolderSource
from config.settings import Settings
from fakes.carrier import FakeCarrier, serve
from fakes.records import write_patient
from tests import factories
from tests.harness import Harness
from worker import build_worker

SECRET = "test-link-secret-0123456789"

#: The synthetic patient of these tests, as the record source holds them. Not the factories'
#: patient: other tests link amendments to that one, and amendments travel with releases.
AVERY = {
    "first_name": "Avery",
    "last_name": "Fulfiltest",
    "date_of_birth": "1984-03-09",
    "mrn": "MRN-0000001",
}
PATIENT_NAME = "Avery Fulfiltest"


@pytest.fixture(autouse=True)
def _our_patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request these tests build from tests/factories.py is for AVERY."""
    original = factories.own_records

    def own_records(**overrides: Any) -> dict[str, Any]:
        data = original(**overrides)
        if "patient" not in overrides:
            data["patient"] = {**data["patient"], "last_name": AVERY["last_name"]}
            if data["requester"].get("relationship") == "self":
                data["requester"] = {**data["requester"], "last_name": AVERY["last_name"]}
        return data

    monkeypatch.setattr(factories, "own_records", own_records)


AVERY_DOCS = [
    {
        "id": "d-visit-2024",
        "record_type": "visit_notes",
        "title": "Clinic visit note",
        "service_date": "2024-05-02",
        "pages": 2,
    },
    {
        "id": "d-lab-2025",
        "record_type": "lab_results",
        "title": "Lipid panel",
        "service_date": "2025-02-11",
        "pages": 1,
    },
    {
        "id": "d-old-2019",
        "record_type": "visit_notes",
        "title": "Old visit",
        "service_date": "2019-07-01",
        "pages": 1,
    },
    {
        "id": "d-img-2024",
        "record_type": "imaging_study",
        "title": "MRI lumbar spine",
        "service_date": "2024-08-20",
        "content_type": "application/dicom",
        "content": b"\0" * 128 + b"DICMsynthetic",
    },
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Inbox:
    """What the local SMTP server actually received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Inbox, int]]:
    # The stand-in mail server (like any mail server) logs each recipient address at INFO;
    # that is the relay's log, not ours, and must not fill the test logs with addresses.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="session")
def carrier() -> Iterator[tuple[FakeCarrier, str]]:
    server, fake = serve(0)
    yield fake, server.url
    server.stop()


@pytest.fixture
def records(tmp_path: Path) -> Path:
    root = tmp_path / "records"
    write_patient(root, "avery", AVERY, AVERY_DOCS)
    return root


@pytest.fixture
def settings(
    tmp_path: Path, smtp: tuple[Inbox, int], carrier: tuple[FakeCarrier, str], records: Path
) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        outbox_dir=tmp_path / "outbox",
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        link_secret=SECRET,
        public_base_url="http://roi.test",
        records_dir=records,
        fedex_base_url=carrier[1],
        batch_enabled=False,
    )


def channels_for(settings: Settings, database_url: str) -> Channels:
    outbox = Outbox(settings.outbox_path)
    return build_channels(
        settings, database_url, outbox, source=FolderSource(settings.records_path)
    )


@asynccontextmanager
async def channel_worker(
    env: WorkflowEnvironment, database_url: str, settings: Settings
) -> AsyncIterator[Harness]:
    """A worker with every activity wired to the real channels of `settings`."""
    client: Client = env.client
    task_queue = f"ful-{uuid.uuid4().hex[:8]}"
    outbox = Outbox(settings.outbox_path)
    channels = channels_for(settings, database_url)
    activities = [
        *RequestActivities(database_url, outbox, channels=channels).all(),
        *CaseActivities(database_url, outbox).all(),
        *ChannelActivities(database_url, channels).all(),
    ]
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(client, task_queue, activities, executor):
            harness = Harness(
                client=client,
                task_queue=task_queue,
                database_url=database_url,
                outbox=settings.outbox_path,
                env=env,
            )
            try:
                yield harness
            finally:
                await harness.terminate_open()


@pytest.fixture
async def h(
    registered_env: WorkflowEnvironment, database_url: str, settings: Settings
) -> AsyncIterator[Harness]:
    async with channel_worker(registered_env, database_url, settings) as harness:
        yield harness


def request_data(factory: Any = factories.own_records, **overrides: Any) -> dict[str, Any]:
    return factory(**overrides)
