"""Form and format of the copy (164.524(c)(2), issue 15 hole 8): a PDF by protected link stays
the default; a FHIR Bundle of the released resources from the FHIR source; another agreed
format waits for staff; unencrypted email only on the patient's own request after they were
told the risk, with the records attached and the acceptance on the disclosure."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.channels.packet import BUNDLE_NAME, FormatNotProducible, package
from activities.channels.wiring import build_channels
from activities.outbox import Outbox
from activities.sources.fhir import FhirSource
from config.settings import Settings
from domain import actions
from domain.correspondence import release_description
from domain.effects import Delivery
from domain.patients import patient_key
from domain.request import ElectronicFormat, RecordRequestSubmission, parse_submission
from domain.types import Status
from fakes.fhir_server import FhirStore, serve
from fakes.records import record_pdf
from store.db import session_scope
from store.models import DownloadLink
from tests import factories
from tests.fulfillment.conftest import AVERY, Inbox, channels_for
from tests.fulfillment.helpers import STAFF, pages_text, release
from tests.harness import Harness
from workflows.record_request import RecordRequestWorkflow as W

EMAIL = "avery.testpatient@example.org"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ACCEPTED = {"told_of_risk": True, "accepted_at": "2026-11-02T14:50:00+00:00", "how": "by_phone"}


def codes(data: dict[str, Any]) -> set[tuple[str, str]]:
    sub, problems = parse_submission(data, NOW)
    assert sub is None
    return {(p.field, p.code) for p in problems}


def test_intake_checks_format_and_plain_email_field_by_field() -> None:
    ok, problems = parse_submission(
        factories.own_records(plain_email=True, plain_email_acceptance=ACCEPTED), NOW
    )
    assert ok is not None and not problems and ok.plain_email_acceptance is not None
    # asked for plain email without recording that the patient accepted the risk: refused
    assert ("plain_email_acceptance", "missing") in codes(factories.own_records(plain_email=True))
    not_accepted = {**ACCEPTED, "told_of_risk": False}
    assert ("plain_email_acceptance.told_of_risk", "risk_not_accepted") in codes(
        factories.own_records(plain_email=True, plain_email_acceptance=not_accepted)
    )
    future = {**ACCEPTED, "accepted_at": "2027-01-01T00:00:00+00:00"}
    assert ("plain_email_acceptance.accepted_at", "in_future") in codes(
        factories.own_records(plain_email=True, plain_email_acceptance=future)
    )
    # only the patient's own request, by email, with an address
    parent = factories.own_records(plain_email=True, plain_email_acceptance=ACCEPTED)
    parent["requester"] = {**parent["requester"], "relationship": "parent"}
    assert ("plain_email", "plain_email_own_request_only") in codes(parent)
    assert ("delivery_method", "plain_email_needs_email") in codes(
        factories.own_records(
            plain_email=True, plain_email_acceptance=ACCEPTED, delivery_method="us_mail"
        )
    )
    no_email = factories.own_records(plain_email=True, plain_email_acceptance=ACCEPTED)
    no_email["requester"]["contact"] = {
        k: v for k, v in no_email["requester"]["contact"].items() if k != "email"
    }
    assert ("requester.contact.email", "missing") in codes(no_email)
    assert ("plain_email_acceptance", "plain_email_not_asked") in codes(
        factories.own_records(plain_email_acceptance=ACCEPTED)
    )
    # a format other than PDF goes electronically; another format is described
    assert ("electronic_format", "format_needs_electronic_delivery") in codes(
        factories.own_records(electronic_format="fhir_bundle", delivery_method="us_mail")
    )
    assert ("other_format", "missing") in codes(factories.own_records(electronic_format="other"))
    default, _ = parse_submission(factories.own_records(), NOW)
    assert default is not None and default.electronic_format == ElectronicFormat.PDF
    assert not default.plain_email


async def test_plain_email_carries_the_records_and_the_acceptance_is_on_the_disclosure(
    h: Harness, registered_env: WorkflowEnvironment, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    before = len(inbox.to(EMAIL))
    now = await registered_env.get_current_time()
    accepted = {**ACCEPTED, "accepted_at": now.isoformat()}
    handle = await h.start(
        factories.own_records(
            received_at=now.isoformat(), plain_email=True, plain_email_acceptance=accepted
        )
    )
    await release(h, handle)
    outcome = await handle.result()
    assert outcome.status == "completed" and outcome.disclosures == 1

    [email] = inbox.to(EMAIL)[before:]
    assert email.is_multipart()
    body = email.get_body(("plain",))
    assert body is not None and "unencrypted" in body.get_content()
    assert "/download/" not in body.get_content()  # no link: the records themselves
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "records.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    assert all("Avery Fulfiltest" in p for p in pages_text(pdf)) and len(pages_text(pdf)) == 3

    state = await h.state(handle)
    [disclosure] = h.disclosures(state.request_id)
    assert disclosure.method == "email_link"
    assert "unencrypted at the patient's request" in disclosure.description
    assert "told of the risk by phone" in disclosure.description
    assert f"accepted {now.isoformat()}" in disclosure.description


async def test_pdf_by_link_stays_the_default_disclosure(
    h: Harness, registered_env: WorkflowEnvironment, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    before = len(inbox.to(EMAIL))
    now = await registered_env.get_current_time()
    data = factories.own_records(received_at=now.isoformat())
    handle = await h.start(data)
    await release(h, handle)
    await handle.result()
    [email] = inbox.to(EMAIL)[before:]
    assert not email.is_multipart() and "/download/" in email.get_content()
    state = await h.state(handle)
    [disclosure] = h.disclosures(state.request_id)
    sub = RecordRequestSubmission.model_validate(data)
    assert disclosure.description == release_description(sub)  # no format, no plain email


async def test_other_format_waits_for_staff_to_confirm_they_produced_it(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    now = await registered_env.get_current_time()
    handle = await h.start(
        factories.own_records(
            received_at=now.isoformat(),
            electronic_format="other",
            other_format="C-CDA XML on the patient's USB drive",
        )
    )
    await release(h, handle)
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    state = await h.state(handle)
    assert h.disclosures(state.request_id) == []  # held: nothing left
    await handle.execute_update(W.confirm_format, actions.ConfirmFormat(actor=STAFF))
    outcome = await handle.result()
    assert outcome.status == "completed"
    [disclosure] = h.disclosures(state.request_id)
    assert "format: other agreed format: C-CDA XML" in disclosure.description


@pytest.fixture(scope="module")
def fhir_url() -> Iterator[str]:
    store = FhirStore()
    store.patient("p1", "Avery", "Fulfiltest", "1984-03-09", mrn="MRN-0000001")
    for did, loinc, when in [
        ("visit-2024", "11506-3", "2024-05-02"),
        ("lab-2025", "11502-2", "2025-02-11"),
        ("old-2019", "11506-3", "2019-07-01"),
    ]:
        pdf = record_pdf(AVERY, did, 1, date.fromisoformat(when))
        store.document(did, "p1", loinc, when, pdf, title=did)
    server = serve(store)
    yield server.url
    server.stop()


def _delivery(sub: RecordRequestSubmission, request_id: str) -> Delivery:
    return Delivery(
        key=f"{request_id}-deliver",
        request_id=request_id,
        tracking_number="ROI-TEST0-00008",
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        email=sub.requester.contact.email,
        description="Visit notes and lab results",
        patient_key=patient_key(
            sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
        ),
        submission=sub,
        release_on=date(2026, 11, 20),
    )


def test_fhir_bundle_of_the_released_resources_in_the_download(
    fhir_url: str, settings: Settings, database_url: str, smtp: tuple[Inbox, int]
) -> None:
    sub = RecordRequestSubmission.model_validate(
        factories.own_records(electronic_format="fhir_bundle")
    )
    channels = build_channels(
        settings, database_url, Outbox(settings.outbox_path), source=FhirSource(fhir_url)
    )
    sent = channels.deliver(_delivery(sub, "RQ-FHIRBUNDLE1"))
    assert sent.detail is not None
    with session_scope(database_url) as session:
        link = session.execute(
            select(DownloadLink).where(DownloadLink.id == sent.detail["link_id"])
        ).scalar_one()
        path, content_type = link.package_path, link.content_type
    assert content_type == "application/zip"
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        assert archive.namelist() == [BUNDLE_NAME]
        raw = json.loads(archive.read(BUNDLE_NAME))
    bundle = Bundle.model_validate(raw)  # a valid FHIR R4 Bundle
    assert bundle.type == "collection"
    resources = [e["resource"] for e in raw["entry"]]
    assert {r["resourceType"] for r in resources} == {"DocumentReference"}
    # the released resources only (in the request's dates), their content inline
    assert sorted(r["id"] for r in resources) == ["lab-2025", "visit-2024"]
    for r in resources:
        attachment = r["content"][0]["attachment"]
        assert "url" not in attachment and attachment["contentType"] == "application/pdf"
        assert attachment["data"]
    # the same records as PDF (the default) from the same source: one PDF
    pdf_sub = sub.model_copy(update={"electronic_format": ElectronicFormat.PDF})
    packet = channels.gather(_delivery(pdf_sub, "RQ-FHIRBUNDLE2"), date(2026, 11, 20))
    assert package(packet)[1] == "application/pdf"


def test_a_fhir_bundle_from_a_source_without_fhir_resources_is_held(
    settings: Settings, database_url: str
) -> None:
    sub = RecordRequestSubmission.model_validate(
        factories.own_records(electronic_format="fhir_bundle")
    )
    channels = channels_for(settings, database_url)  # the folder source: PDFs only
    with pytest.raises(FormatNotProducible):
        channels.deliver(_delivery(sub, "RQ-FHIRBUNDLE3"))
