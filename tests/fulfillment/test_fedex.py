"""FedEx: the $45 is paid before shipping, the fake carrier receives a 2Day shipment with a PDF
label, and the workflow follows tracking until delivery and records it."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.channels.fedex import FedexClient, Party
from activities.outbox import Outbox
from activities.request_activities import RequestActivities
from config.settings import Settings
from domain.types import DeliveryMethod, RequestKind, Status
from fakes.carrier import FakeCarrier, reference_of
from tests import factories
from tests.fulfillment.conftest import channels_for
from tests.fulfillment.helpers import pages_text, release
from tests.fulfillment.test_email_link import _delivery
from tests.harness import Harness


async def test_paid_fedex_ships_2day_and_tracking_reaches_delivery(
    h: Harness, registered_env: WorkflowEnvironment, carrier: tuple[FakeCarrier, str]
) -> None:
    fake, _ = carrier
    now = await registered_env.get_current_time()
    handle = await h.start(factories.imaging_fedex(received_at=now.isoformat()))
    state = await h.state(handle)
    await release(h, handle, paid_cents=4500)
    await h.wait_status(handle, Status.COMPLETED)
    for _ in range(12):  # 6-hourly tracking reads: picked up, in transit, delivered
        if any(e.action == "shipment.delivered" for e in h.events(state.request_id)):
            break
        await h.skip(timedelta(hours=6, minutes=5))
        await asyncio.sleep(0.3)
    outcome = await handle.result()  # returns once tracking shows delivery
    assert outcome.status == "completed"

    [shipment] = [
        s
        for s in fake.shipments.values()
        if s["request"]["requestedShipment"]["requestedPackageLineItems"][0]["customerReferences"][
            0
        ]["value"]
        == f"{state.request_id}-deliver"
    ]
    sent = shipment["request"]["requestedShipment"]
    assert sent["serviceType"] == "FEDEX_2_DAY"
    assert sent["recipients"][0]["address"]["streetLines"] == ["100 Example Ave"]
    assert sent["recipients"][0]["address"]["postalCode"] == "55901"
    assert sent["shipper"]["address"]["city"] == "Rochester"

    events = h.events(state.request_id)
    actions_seen = [e.action for e in events]
    assert actions_seen.index("payment.recorded") < actions_seen.index("request.completed")
    [delivered] = [e for e in events if e.action == "shipment.delivered"]
    assert delivered.detail["tracking_number"] == shipment["trackingNumber"]
    assert actions_seen.index("request.completed") < actions_seen.index("shipment.delivered")

    label = h.outbox / "ship" / f"{state.request_id}-deliver-label.pdf"
    assert shipment["trackingNumber"] in pages_text(label.read_bytes())[0]
    packet = pages_text((h.outbox / "ship" / f"{state.request_id}-deliver.pdf").read_bytes())
    assert any("MRI lumbar spine" in p for p in packet)  # the cover lists what is enclosed
    [disclosure] = h.disclosures(state.request_id)
    assert disclosure.method == "fedex"


def test_unpaid_fedex_never_reaches_the_carrier(
    h: Harness, settings: Settings, carrier: tuple[FakeCarrier, str]
) -> None:
    fake, _ = carrier
    before = len(fake.shipments)
    delivery = _delivery("01unpaidfedextest000000001").model_copy(
        update={"method": "fedex", "fee_paid_cents": 0}
    )
    delivery.submission = delivery.submission.model_copy(  # type: ignore[union-attr]
        update={"delivery_method": "fedex", "kind": "imaging"}
    )
    channels = channels_for(settings, h.database_url)
    acts = RequestActivities(h.database_url, Outbox(settings.outbox_path), channels=channels)
    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(acts.deliver, delivery)
    assert refused.value.type == "FeeUnpaid" and refused.value.non_retryable
    assert len(fake.shipments) == before


def test_carrier_refuses_wrong_client_credentials(carrier: tuple[FakeCarrier, str]) -> None:
    _, url = carrier
    client = FedexClient(url, "demo-client", "wrong-secret", "000000000")
    party = Party("A", ["1 Main St"], "Rochester", "MN", "55901")
    with pytest.raises(ApplicationError) as refused:
        client.create_shipment(party, party, "ref-1", date(2026, 11, 25))
    assert refused.value.type == "CarrierError" and refused.value.non_retryable


def test_a_shipment_whose_answer_was_lost_is_cancelled_before_the_retry_ships(
    h: Harness, settings: Settings, carrier: tuple[FakeCarrier, str]
) -> None:
    """An attempt's create reached FedEx but its answer (and label) never came back (worker
    killed mid-call, a relay that delivered late): the retry cancels that unlabelled shipment,
    so one live shipment, one charge, and the label we hold is the one that ships."""
    fake, url = carrier
    delivery = _delivery("01lostanswerfedextest00001").model_copy(
        update={"method": DeliveryMethod.FEDEX, "fee_paid_cents": 4500}
    )
    delivery.submission = delivery.submission.model_copy(  # type: ignore[union-attr]
        update={"delivery_method": DeliveryMethod.FEDEX, "kind": RequestKind.IMAGING}
    )
    lost = FedexClient(url, "demo-client", "demo-secret", "000000000")
    party = Party("A", ["1 Main St"], "Rochester", "MN", "55901")
    lost.create_shipment(party, party, delivery.key, date.today())  # the answer we never saw
    channels = channels_for(settings, h.database_url)
    acts = RequestActivities(h.database_url, Outbox(settings.outbox_path), channels=channels)
    receipt = ActivityEnvironment().run(acts.deliver, delivery)
    mine = [s for s in fake.shipments.values() if reference_of(s) == delivery.key]
    live = [s for s in mine if not s.get("cancelled")]
    assert len(mine) == 2 and len(live) == 1
    assert live[0]["trackingNumber"] == receipt.carrier_tracking_number
