"""What else travels in a packet: imaging by cloud link (a zip behind the same signed link),
and amendment statements linked to the record (on the last pages, before the separator)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from temporalio.testing import ActivityEnvironment

from activities.outbox import Outbox
from activities.request_activities import RequestActivities
from app.main import create_app
from config.settings import Settings
from domain.effects import AmendmentOutcome, Delivery
from domain.patients import patient_key
from domain.request import RecordRequestSubmission
from fakes.records import write_patient
from services import links
from store import cases
from store.db import session_scope
from tests import factories
from tests.fulfillment.conftest import Inbox, channels_for
from tests.fulfillment.helpers import LINK, pages_text, web
from tests.harness import Harness

CASEY = {"first_name": "Casey", "last_name": "Amendtest", "date_of_birth": "1977-07-07"}


def delivery_for(data: dict, request_id: str) -> Delivery:
    sub = RecordRequestSubmission.model_validate(data)
    contact = sub.delivery_contact()
    return Delivery(
        key=f"{request_id}-deliver",
        request_id=request_id,
        tracking_number="ROI-EXTRA-00001",
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        email=contact.email,
        address_lines=contact.address.lines() if contact.address else [],
        description="records",
        patient_key=patient_key(
            sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
        ),
        submission=sub,
    )


def activities(h: Harness, settings: Settings) -> RequestActivities:
    channels = channels_for(settings, h.database_url)
    return RequestActivities(h.database_url, Outbox(settings.outbox_path), channels=channels)


async def test_imaging_cloud_link_serves_a_zip_with_the_images(
    h: Harness, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    data = factories.own_records(kind="imaging")
    data["records"] = {"description": "MRI and report", "record_types": ["imaging"]}
    delivery = delivery_for(data, "01imagingcloudlinktest00001")
    ActivityEnvironment().run(activities(h, settings).deliver, delivery)
    [url] = LINK.findall(smtp[0].messages[-1].get_content())
    app = create_app(settings, database_url=h.database_url, temporal_client=h.client)
    async with web(app) as browser:
        response = await browser.get(url)
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == ["images/d-img-2024.dcm"]
    with session_scope(h.database_url) as session:
        outcomes = [e.outcome for e in links.access_events(session, delivery.request_id)]
    assert outcomes == ["served"]


def test_amendment_statements_travel_with_a_mailed_release(
    h: Harness, settings: Settings, records: Path
) -> None:
    write_patient(
        records,
        "casey",
        CASEY,
        [{"id": "c-visit", "record_type": "visit_notes", "service_date": "2024-02-02", "pages": 2}],
    )
    data = factories.third_party()
    data["patient"] = {**CASEY, "mrn": None}
    delivery = delivery_for(data, "01amendmentstraveltest00001")
    with session_scope(h.database_url) as session:
        cases.record_amendment(
            session,
            AmendmentOutcome(
                request_id="01amendmentcasey0000000001",
                patient_key=delivery.patient_key or "",
                outcome="denied",
                record_description="Visit of 2024-02-02",
                denial_basis="accurate_and_complete",
                disagreement="The allergy list is wrong.",
                at=datetime.now(UTC),
            ),
        )
    ActivityEnvironment().run(activities(h, settings).deliver, delivery)
    pages = pages_text((Path(settings.outbox_path) / "print" / f"{delivery.key}.pdf").read_bytes())
    assert "END OF PACKET" in pages[-1]
    assert "The allergy list is wrong." in pages[-2] and "Casey Amendtest" in pages[-2]
    assert len(pages) == 1 + 2 + 1 + 1  # cover, records, statements, separator
