"""Activities are idempotent: a retry never sends, ships or discloses twice (real PostgreSQL).

Deliveries run through the channels production wires (build_channels): emails written to the
outbox (no SMTP host), print packets and CDs in the outbox, shipments at the fake FedEx. What
a retry did is counted there, where the records would have left, not on a mock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from ulid import ULID

from activities.channels.wiring import build_channels
from activities.outbox import Outbox
from activities.request_activities import RequestActivities
from domain.correspondence import release_description
from domain.effects import AuditEvent, Delivery, DisclosureRecord, NoticeToSend, Projection
from domain.notices import Notice, NoticeKind
from domain.patients import patient_key
from domain.request import RecordRequestSubmission
from domain.sla import start_clock
from domain.state import RequestState
from domain.types import DeliveryMethod, Site, Status
from fakes.carrier import FakeCarrier, reference_of
from store.db import session_scope
from store.models import Disclosure, DownloadLink, OutboundItem, RecordRequest, RequestEvent
from tests import factories
from tests.harness import channel_settings, fake_carrier
from tests.records import write_test_patients


@pytest.fixture(scope="module")
def carrier() -> Iterator[tuple[FakeCarrier, str]]:
    with fake_carrier() as found:
        yield found


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def acts(
    database_url: str, tmp_path: Path, outbox: Path, carrier: tuple[FakeCarrier, str]
) -> RequestActivities:
    """The request activities as worker.make_activities wires them, on test stand-ins."""
    settings = channel_settings(outbox, write_test_patients(tmp_path / "records"), carrier[1])
    box = Outbox(settings.outbox_path)
    channels = build_channels(settings, database_url, box)
    return RequestActivities(database_url, box, channels=channels)


def count(database_url: str, model: type, request_id: str) -> int:
    query = select(func.count()).select_from(model).where(model.request_id == request_id)  # type: ignore[attr-defined]
    with session_scope(database_url) as session:
        return session.execute(query).scalar_one()


def new_id() -> str:
    return str(ULID()).lower()


#: method -> the request it comes from (the factories' patient, whose records the source holds)
REQUESTS: dict[DeliveryMethod, dict[str, Any]] = {
    DeliveryMethod.EMAIL_LINK: factories.own_records(),
    DeliveryMethod.US_MAIL: factories.third_party(),
    DeliveryMethod.CD_MAIL: factories.imaging_fedex(delivery_method="cd_mail"),
    DeliveryMethod.FEDEX: factories.imaging_fedex(),
}


def delivery_of(data: dict[str, Any], fee_paid_cents: int = 0) -> Delivery:
    """The delivery the workflow asks for (as RecordRequestWorkflow._delivery builds it)."""
    rid = new_id()
    sub = RecordRequestSubmission.model_validate(data)
    contact = sub.delivery_contact()
    return Delivery(
        key=f"{rid}-deliver",
        request_id=rid,
        tracking_number=f"ROI-{rid[-10:-5].upper()}-{rid[-5:].upper()}",
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        email=contact.email,
        address_lines=contact.address.lines() if contact.address else [],
        description=release_description(sub),
        patient_key=patient_key(
            sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
        ),
        submission=sub,
        fee_paid_cents=fee_paid_cents,
    )


def disclosure_of(delivery: Delivery) -> DisclosureRecord:
    sub = delivery.submission
    assert sub is not None
    return DisclosureRecord(
        key=f"{delivery.request_id}-disclosure",
        request_id=delivery.request_id,
        disclosed_at=datetime.now(UTC),
        disclosed_by="spec",
        recipient_name=delivery.recipient_name,
        recipient_address="\n".join(delivery.address_lines) or delivery.email,
        description=delivery.description,
        purpose="Claim",
        method=delivery.method,
        category=sub.disclosure_category,
        authorization_ref=(
            f"{delivery.request_id}-authorization" if sub.needs_authorization else None
        ),
    )


def sent(outbox: Path, carrier: FakeCarrier, key: str) -> dict[str, list[str]]:
    """Everything that left for this delivery key: outbox files by folder, live shipments."""
    found = {
        folder.name: sorted(p.name for p in folder.glob(f"{key}*"))
        for folder in sorted(outbox.iterdir())
        if folder.is_dir() and folder.name != "releases"  # the package behind a link
    }
    found["shipments"] = sorted(
        number
        for number, shipment in carrier.shipments.items()
        if reference_of(shipment) == key and not shipment.get("cancelled")
    )
    return {folder: names for folder, names in found.items() if names}


def expected(method: DeliveryMethod, key: str, shipments: list[str]) -> dict[str, list[str]]:
    """What one delivery by `method` sends, once."""
    return {
        DeliveryMethod.EMAIL_LINK: {"email": [f"{key}.eml"]},
        DeliveryMethod.US_MAIL: {"print": [f"{key}.pdf"]},
        DeliveryMethod.CD_MAIL: {
            "cd": [f"{key}-label.pdf", f"{key}.iso"],
            "email": [f"{key}-password.eml"],  # the password, apart from the disc
        },
        DeliveryMethod.FEDEX: {
            "ship": [f"{key}-label.pdf", f"{key}.pdf"],
            "shipments": shipments,
        },
    }[method]


@pytest.mark.parametrize("method", list(REQUESTS), ids=lambda m: m.value)
def test_a_delivery_run_twice_sends_once_and_discloses_once(
    acts: RequestActivities,
    outbox: Path,
    carrier: tuple[FakeCarrier, str],
    database_url: str,
    method: DeliveryMethod,
) -> None:
    fake, _ = carrier
    delivery = delivery_of(REQUESTS[method], fee_paid_cents=4500)
    calls = fake.ship_calls
    env = ActivityEnvironment()
    first = env.run(acts.deliver, delivery)
    second = env.run(acts.deliver, delivery)
    assert env.run(acts.record_disclosure, disclosure_of(delivery)) is True
    assert env.run(acts.record_disclosure, disclosure_of(delivery)) is False

    assert first.documents and first.documents >= 2  # the records went, not an empty packet
    assert second.carrier_tracking_number == first.carrier_tracking_number
    shipments = [first.carrier_tracking_number] if method == DeliveryMethod.FEDEX else []
    assert sent(outbox, fake, delivery.key) == expected(method, delivery.key, shipments)
    assert fake.ship_calls == calls + len(shipments)  # the retry never called FedEx again
    assert count(database_url, OutboundItem, delivery.request_id) == 1
    assert count(database_url, Disclosure, delivery.request_id) == 1
    if method == DeliveryMethod.EMAIL_LINK:
        assert count(database_url, DownloadLink, delivery.request_id) == 1
        email = (outbox / "email" / f"{delivery.key}.eml").read_text()
        assert "/download/" in email and "Lipid panel" not in email  # a link, not the records


@pytest.mark.parametrize("method", list(REQUESTS), ids=lambda m: m.value)
def test_a_retry_after_a_send_whose_record_was_lost_sends_nothing_more(
    acts: RequestActivities,
    outbox: Path,
    carrier: tuple[FakeCarrier, str],
    database_url: str,
    method: DeliveryMethod,
) -> None:
    """The worker died after the channel sent and before the send was recorded: Temporal runs
    the activity again, and the requester still gets one email, disc or shipment."""
    fake, _ = carrier
    delivery = delivery_of(REQUESTS[method], fee_paid_cents=4500)
    acts.channels.deliver(delivery)  # the attempt that sent, then died
    receipt = ActivityEnvironment().run(acts.deliver, delivery)  # the retry
    shipments = [receipt.carrier_tracking_number] if method == DeliveryMethod.FEDEX else []
    assert sent(outbox, fake, delivery.key) == expected(method, delivery.key, shipments)
    assert count(database_url, OutboundItem, delivery.request_id) == 1
    if method == DeliveryMethod.FEDEX:  # the first shipment was voided: its label is gone too
        label = PdfReader(outbox / "ship" / f"{delivery.key}-label.pdf").pages[0].extract_text()
        assert f"TRK# {receipt.carrier_tracking_number}" in label


def test_a_patient_the_source_does_not_hold_is_held_and_nothing_leaves(
    acts: RequestActivities, outbox: Path, carrier: tuple[FakeCarrier, str], database_url: str
) -> None:
    data = factories.own_records()
    data["patient"] = {**data["patient"], "first_name": "Nofolder"}
    delivery = delivery_of(data)
    with pytest.raises(ApplicationError) as held:
        ActivityEnvironment().run(acts.deliver, delivery)
    assert held.value.type == "ReleaseHeld" and held.value.non_retryable
    assert [d["code"] for d in held.value.details] == ["no_records_found"]  # type: ignore[index]
    assert held.value.message == "No records were found for this patient in the record source."
    assert not (outbox / "email").exists() and not (outbox / "releases").exists()
    assert count(database_url, OutboundItem, delivery.request_id) == 0
    assert count(database_url, DownloadLink, delivery.request_id) == 0


def test_notice_rendered_and_sent_once(
    acts: RequestActivities, outbox: Path, database_url: str
) -> None:
    rid = new_id()
    notice = Notice(
        kind=NoticeKind.ACKNOWLEDGEMENT,
        site=Site.MINNESOTA,
        tracking_number="ROI-AAAAA-BBBBB",
        issued_on=date(2026, 11, 25),
        recipient_name="Avery Testpatient",
        recipient_address=["100 Example Ave", "Rochester, MN 55901"],
        expected_date=date(2026, 12, 9),
    )
    item = NoticeToSend(key=f"{rid}-notice-acknowledgement-1", request_id=rid, notice=notice)
    env = ActivityEnvironment()
    env.run(acts.send_notice, item)
    env.run(acts.send_notice, item)
    [pdf] = list((outbox / "letters").glob("*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert count(database_url, OutboundItem, rid) == 1


def _state(rid: str, status: Status) -> RequestState:
    sub = RecordRequestSubmission.model_validate(factories.own_records())
    return RequestState(
        request_id=rid,
        tracking_number=f"ROI-{rid[-10:-5].upper()}-{rid[-5:].upper()}",
        submission=sub,
        status=status,
        clock=start_clock(sub.kind, sub.site, sub.received_at),
    )


def _event(rid: str, key: str, action: str) -> AuditEvent:
    return AuditEvent(key=f"{rid}-{key}", at=datetime.now(UTC), actor="system", action=action)


def test_projection_never_goes_backwards_and_events_are_once(
    acts: RequestActivities, database_url: str
) -> None:
    rid = new_id()
    env = ActivityEnvironment()
    env.run(
        acts.project,
        Projection(
            state=_state(rid, Status.RECEIVED),
            version=1,
            event=_event(rid, "a", "request.received"),
        ),
    )
    env.run(
        acts.project,
        Projection(
            state=_state(rid, Status.COMPLETED),
            version=3,
            event=_event(rid, "c", "request.completed"),
        ),
    )
    # a late retry of an older projection adds its event once but does not roll the row back
    older = Projection(
        state=_state(rid, Status.AWAITING_VERIFICATION),
        version=2,
        event=_event(rid, "b", "request.triaged"),
    )
    env.run(acts.project, older)
    env.run(acts.project, older)
    with session_scope(database_url) as session:
        assert session.get(RecordRequest, rid).status == "completed"  # type: ignore[union-attr]
    assert count(database_url, RequestEvent, rid) == 3


@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET request_id = 'x'", "DELETE FROM {t}", "TRUNCATE {t}"]
)
@pytest.mark.parametrize("table", ["request_events", "disclosures"])
def test_audit_and_disclosures_are_append_only(
    owner_database_url: str, statement: str, table: str
) -> None:
    # As the tables' owner: the triggers hold even for it (the app's role is refused sooner,
    # by its privileges: tests/hostile/test_audit_bypass.py).
    with (
        pytest.raises(DBAPIError, match="append-only"),
        session_scope(owner_database_url) as session,
    ):
        session.execute(text(statement.format(t=table)))


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b", "", "x" * 300])
def test_outbox_refuses_unsafe_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        Outbox(tmp_path).write("email", key, ".eml", b"x")
