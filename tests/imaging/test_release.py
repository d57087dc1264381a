"""An imaging request released from the real Orthanc, from intake to delivery: by encrypted CD
by mail, by FedEx and by email link, through the real worker, PostgreSQL and Temporal's
time-skipping server. Every image is checked before release; a study holding an image of
another patient is held with its code, nothing sent, no disclosure recorded."""

from __future__ import annotations

import io
import re
import subprocess
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pycdlib
import pytest
import pyzipper
from fastapi import FastAPI
from PIL import Image
from temporalio.testing import WorkflowEnvironment

from app.main import create_app
from config.settings import Settings
from domain.types import Status
from fakes.carrier import FakeCarrier
from portal.main import create_app as create_portal
from tests import factories
from tests.fulfillment.conftest import SECRET, Inbox, carrier, channel_worker, smtp
from tests.fulfillment.helpers import LINK, release
from tests.harness import Harness
from tests.imaging.conftest import AVERY, PASSWORD, Archive, needs_dcmtk
from tests.portal.helpers import client, hidden
from tests.web.helpers import add_staff, sign_in

__all__ = ["carrier", "smtp"]  # the channels' fixtures, shared with tests/fulfillment

EMAIL = "avery.testpatient@example.org"
#: Avery's CT (2023-05-10) and X-ray (2024-02-01): 20 + 1 instances, not the mixed study
CT_AND_XRAY = (date(2023, 1, 1), date(2024, 3, 1))
MR_ONLY = (date(2025, 1, 1), date(2025, 12, 31))  # 8 instances
STUDY_LINK = re.compile(r"(http://portal\.test/imaging/\S+)")
MIXED = (date(2024, 5, 15), date(2024, 6, 15))  # Avery's CT with one instance of Jordan's


@pytest.fixture
def settings(
    tmp_path: Path, smtp: tuple[Inbox, int], carrier: tuple[FakeCarrier, str], archive: Archive
) -> Settings:
    (tmp_path / "records").mkdir()
    return Settings(
        data_dir=tmp_path / "data",
        outbox_dir=tmp_path / "outbox",
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        link_secret=SECRET,
        public_base_url="http://roi.test",
        portal_public_base_url="http://portal.test",
        records_dir=tmp_path / "records",
        fedex_base_url=carrier[1],
        batch_enabled=False,
        dicomweb_url=archive.server.dicomweb_url,
        dicomweb_user=archive.server.user,
        dicomweb_password=PASSWORD,
    )


@pytest.fixture
async def h(
    registered_env: WorkflowEnvironment, database_url: str, settings: Settings
) -> AsyncIterator[Harness]:
    async with channel_worker(registered_env, database_url, settings) as harness:
        yield harness


def imaging_request(method: str, dates: tuple[date, date], now: str) -> dict[str, Any]:
    """Avery (as the archive holds them) asking for their images in `dates`."""
    data = factories.own_records(kind="imaging", delivery_method=method, received_at=now)
    data["patient"] = {
        "first_name": AVERY.given_name,
        "last_name": AVERY.family_name,
        "date_of_birth": AVERY.birth_date.isoformat(),
        "mrn": AVERY.mrn,
    }
    data["requester"]["last_name"] = AVERY.family_name
    data["records"] = {
        "description": "My imaging studies",
        "date_from": dates[0].isoformat(),
        "date_to": dates[1].isoformat(),
    }
    return data


async def staff_page(app: FastAPI, database_url: str, request_id: str) -> str:
    """The request page as a specialist sees it."""
    username = f"img.spec.{uuid.uuid4().hex[:8]}"
    add_staff(database_url, username, role="specialist")
    browser = await sign_in(app, username)
    try:
        page = await browser.get(f"/requests/{request_id}")
    finally:
        await browser.aclose()
    assert page.status_code == 200, page.text[:500]
    return page.text


def shown(page: str, cell: str) -> str:
    found = re.search(rf'id="{cell}">(\d+)<', page)
    assert found, cell
    return found[1]


def password_from(inbox: Inbox, before: int) -> str:
    [mail] = [m for m in inbox.to(EMAIL)[before:] if "Password" in m["Subject"]]
    found = re.search(r"password is: (\S+)", mail.get_content())
    assert found
    return found[1]


def open_disc(iso_path: Path, password: str, into: Path) -> list[str]:
    """The ISO's RECORDS.ZIP, decrypted and extracted to `into`; its member names."""
    iso = pycdlib.PyCdlib()
    iso.open(str(iso_path))
    zipped = io.BytesIO()
    iso.get_file_from_iso_fp(zipped, iso_path="/RECORDS.ZIP;1")
    iso.close()
    with pyzipper.AESZipFile(zipped) as archive:
        archive.setpassword(password.encode())
        archive.extractall(into)
        return archive.namelist()


def assert_disc(root: Path, names: list[str], instances: int) -> None:
    """The PDI layout with every instance, and DCMTK reads its DICOMDIR."""
    assert names[:3] == ["DICOMDIR", "README.TXT", "INDEX.HTM"]
    dicom = [n for n in names if n.startswith("DICOM/")]
    assert len(dicom) == instances
    tested = subprocess.run(["dcmftest", str(root / "DICOMDIR")], capture_output=True, text=True)
    assert tested.returncode == 0 and tested.stdout.startswith("yes:"), tested.stdout


@needs_dcmtk
async def test_cd_by_mail_holds_the_pdi_disc_in_the_encrypted_container(
    h: Harness, registered_env: WorkflowEnvironment, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, _ = smtp
    before = len(inbox.to(EMAIL))
    now = (await registered_env.get_current_time()).isoformat()
    handle = await h.start(imaging_request("cd_mail", CT_AND_XRAY, now))
    state = await h.state(handle)
    await release(h, handle)
    assert (await handle.result()).status == "completed"

    iso = h.outbox / "cd" / f"{state.request_id}-deliver.iso"
    names = open_disc(iso, password_from(inbox, before), tmp_path / "disc")
    assert_disc(tmp_path / "disc", names, instances=21)
    assert "Testpatient" not in (tmp_path / "disc" / "README.TXT").read_text()
    [disclosure] = h.disclosures(state.request_id)
    assert disclosure.method == "cd_mail"
    [item] = [o for o in h.outbound(state.request_id) if o.kind == "records_cd_mail"]
    assert item.detail and item.detail["instances"] == 21 and item.detail["studies"] == 2
    assert not (h.outbox / "imaging-work" / f"{state.request_id}-deliver").exists()


@needs_dcmtk
async def test_fedex_ships_the_disc_once_paid(
    h: Harness,
    registered_env: WorkflowEnvironment,
    smtp: tuple[Inbox, int],
    carrier: tuple[FakeCarrier, str],
    tmp_path: Path,
) -> None:
    inbox, _ = smtp
    fake, _ = carrier
    before = len(inbox.to(EMAIL))
    now = (await registered_env.get_current_time()).isoformat()
    handle = await h.start(imaging_request("fedex", MR_ONLY, now))
    state = await h.state(handle)
    await release(h, handle, paid_cents=4500)
    await h.wait_status(handle, Status.COMPLETED)

    key = f"{state.request_id}-deliver"
    shipped = [
        s
        for s in fake.shipments.values()
        if s["request"]["requestedShipment"]["requestedPackageLineItems"][0]["customerReferences"][
            0
        ]["value"]
        == key
    ]
    assert len(shipped) == 1
    names = open_disc(h.outbox / "cd" / f"{key}.iso", password_from(inbox, before), tmp_path)
    assert_disc(tmp_path, names, instances=8)
    assert (h.outbox / "ship" / f"{key}-label.pdf").exists()
    [disclosure] = h.disclosures(state.request_id)
    assert disclosure.method == "fedex"


async def test_email_link_downloads_dicom_and_a_preview_per_series(
    h: Harness,
    registered_env: WorkflowEnvironment,
    smtp: tuple[Inbox, int],
    settings: Settings,
) -> None:
    inbox, _ = smtp
    before = len(inbox.to(EMAIL))
    now = (await registered_env.get_current_time()).isoformat()
    handle = await h.start(imaging_request("email_link", CT_AND_XRAY, now))
    state = await h.state(handle)
    await release(h, handle)
    assert (await handle.result()).status == "completed"

    [email] = inbox.to(EMAIL)[before:]
    assert not LINK.findall(email.get_content())  # imaging: the portal's study page
    [url] = STUDY_LINK.findall(email.get_content())
    app = create_app(settings, database_url=h.database_url, temporal_client=h.client)
    portal = create_portal(settings, database_url=h.database_url)
    path = url.removeprefix("http://portal.test")
    async with client(portal) as patient:
        asked = await patient.get(path)
        assert 'name="date_of_birth"' in asked.text
        dob = {
            "csrf_token": hidden(asked.text, "csrf_token"),
            "date_of_birth": AVERY.birth_date.isoformat(),
        }
        page = await patient.post(path, data=dob)
        assert page.status_code == 200 and 'id="count-images">21<' in page.text
        got = await patient.get(f"{path}/study.zip")
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        names = archive.namelist()
        assert len([n for n in names if n.startswith("DICOM/")]) == 21
        previews = [n for n in names if n.endswith(".jpg")]
        assert len(previews) == 2  # one per series: the CT and the X-ray
        for name in previews:
            image = Image.open(io.BytesIO(archive.read(name)))
            assert image.format == "JPEG" and image.mode == "L"
            assert image.getextrema()[1] > image.getextrema()[0]  # not a blank frame
    [disclosure] = h.disclosures(state.request_id)
    assert disclosure.method == "email_link"

    page = await staff_page(app, h.database_url, state.request_id)
    counts = [shown(page, f"imaging-{c}") for c in ("studies", "series", "instances")]
    assert counts == ["2", "2", "21"]  # the archive's counts for the patient and dates


async def test_an_image_of_another_patient_holds_the_release(
    h: Harness, registered_env: WorkflowEnvironment, smtp: tuple[Inbox, int], settings: Settings
) -> None:
    inbox, _ = smtp
    before = len(inbox.messages)
    now = (await registered_env.get_current_time()).isoformat()
    handle = await h.start(imaging_request("cd_mail", MIXED, now))
    state = await h.state(handle)
    await release(h, handle)
    held = await h.wait_event(state.request_id, "release.held")
    assert "imaging_patient_id_mismatch" in held.detail["codes"]
    assert "imaging_patient_name_mismatch" in held.detail["codes"]
    assert (await h.state(handle)).status == Status.READY_TO_RELEASE
    assert h.disclosures(state.request_id) == []
    assert not list(h.outbox.glob(f"*/{state.request_id}-deliver*"))  # no disc, no download
    assert [m for m in inbox.messages[before:] if "Password" in (m["Subject"] or "")] == []

    app = create_app(settings, database_url=h.database_url, temporal_client=h.client)
    page = await staff_page(app, h.database_url, state.request_id)
    assert "Imaging patient id mismatch" in page
    banner = page.split('id="hold-banner"')[1].split("</div>")[0]
    assert "carries another patient's name, ID or date of birth" in banner
    assert AVERY.mrn not in banner and AVERY.family_name not in banner


def test_the_request_page_says_plainly_when_the_archive_does_not_answer(
    settings: Settings,
) -> None:
    from domain.request import RecordRequestSubmission
    from services.imaging import archive_counts
    from tests.fulfillment.conftest import free_port

    closed = settings.model_copy(
        update={"dicomweb_url": f"http://127.0.0.1:{free_port()}/dicom-web"}
    )
    sub = RecordRequestSubmission.model_validate(
        imaging_request("cd_mail", CT_AND_XRAY, "2026-11-02T15:00:00+00:00")
    )
    found = archive_counts(closed, sub, "01imagingdown000000000000001")
    assert found is not None and found.counts is None
    assert found.problem and "did not answer" in found.problem
    counted = archive_counts(settings, sub, "01imagingup00000000000000001")
    assert counted is not None and counted.counts is not None
    assert counted.counts.model_dump() == {"studies": 2, "series": 2, "instances": 21}


def test_a_retried_delivery_reuses_the_disc_and_no_study_is_a_hold(
    h: Harness, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    """The channel itself, called twice for one key (an activity retried after its send was
    lost): the ISO is built once and reused; dates with no study hold with their own code."""
    from datetime import UTC, datetime

    from activities.channels.packet import ReleaseHeld
    from domain.effects import Delivery
    from domain.request import RecordRequestSubmission
    from tests.fulfillment.conftest import channels_for

    channels = channels_for(settings, h.database_url)
    now = datetime.now(UTC).isoformat()

    def delivery(request_id: str, dates: tuple[date, date]) -> Delivery:
        sub = RecordRequestSubmission.model_validate(imaging_request("cd_mail", dates, now))
        contact = sub.delivery_contact()
        return Delivery(
            key=f"{request_id}-deliver",
            request_id=request_id,
            tracking_number="ROI-TEST0-00018",
            method=sub.delivery_method,
            recipient_name=sub.recipient_name(),
            email=EMAIL,
            address_lines=contact.address.lines() if contact.address else [],
            description="Imaging",
            submission=sub,
        )

    first = channels.deliver(delivery("01imagingretry00000000000001", MR_ONLY))
    built = Path(first.path).stat().st_mtime_ns
    again = channels.deliver(delivery("01imagingretry00000000000001", MR_ONLY))
    assert again.path == first.path and Path(again.path).stat().st_mtime_ns == built
    assert again.detail and again.detail["instances"] == 8

    with pytest.raises(ReleaseHeld) as stopped:
        channels.deliver(
            delivery("01imagingnone000000000000001", (date(2020, 1, 1), date(2020, 12, 31)))
        )
    assert [d["code"] for d in stopped.value.details] == ["imaging_no_studies"]
