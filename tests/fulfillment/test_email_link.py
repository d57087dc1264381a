"""Email link: the requester gets a signed, expiring, revocable link by SMTP (never the
records), and every download through the web app is an access event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.outbox import Outbox
from activities.request_activities import RequestActivities
from app.main import create_app
from config.settings import Settings
from domain.effects import Delivery
from domain.patients import patient_key
from domain.request import RecordRequestSubmission
from services import links
from store.db import session_scope
from store.models import DownloadLink
from tests import factories
from tests.fulfillment.conftest import Inbox, channels_for
from tests.fulfillment.helpers import LINK, pages_text, release, web
from tests.harness import Harness

EMAIL = "avery.testpatient@example.org"


async def test_link_by_smtp_downloads_once_per_click_and_can_be_revoked(
    h: Harness,
    registered_env: WorkflowEnvironment,
    smtp: tuple[Inbox, int],
    settings: Settings,
) -> None:
    inbox, _ = smtp
    before = len(inbox.to(EMAIL))
    now = await registered_env.get_current_time()
    handle = await h.start(factories.own_records(received_at=now.isoformat()))
    await release(h, handle)
    outcome = await handle.result()
    assert outcome.status == "completed" and outcome.disclosures == 1

    [email] = inbox.to(EMAIL)[before:]  # what the SMTP server actually received
    body = email.get_content()
    assert email["Subject"].endswith("is ready")
    assert not email.is_multipart()  # no attachment
    assert "Lipid panel" not in body and "Fulfiltest" not in body  # no records, no PHI
    [url] = LINK.findall(body)
    state = await h.state(handle)
    [disclosure] = h.disclosures(state.request_id)
    assert disclosure.method == "email_link" and disclosure.recipient_name == "Avery Fulfiltest"

    app = create_app(settings, database_url=h.database_url, temporal_client=h.client)
    async with web(app) as browser:
        secure = str(browser.base_url).replace("http://", "https://")
        url = url.replace(str(browser.base_url).rstrip("/"), secure.rstrip("/"))
        first = await browser.get(url)
        second = await browser.get(url)  # the same browser (its device cookie), within hours
        assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
        assert second.content == first.content
        pages = pages_text(first.content)
        # in scope only: the 2024 visit (2 pages) and the 2025 labs; not the 2019 visit
        assert len(pages) == 3
        assert all("Avery Fulfiltest" in p and "1984-03-09" in p for p in pages)
        assert not any("Old visit" in p for p in pages)

        tampered = url[:-3] + ("abc" if not url.endswith("abc") else "xyz")
        assert (await browser.get(tampered)).status_code == 404

        with session_scope(h.database_url) as session:
            assert links.revoke(session, request_id=state.request_id, actor="sup", at=now) == 1
        refused = await browser.get(url)
        assert refused.status_code == 410 and "no longer valid" in refused.text

    with session_scope(h.database_url) as session:
        outcomes = [e.outcome for e in links.access_events(session, state.request_id)]
    assert outcomes == ["served", "repeat", "revoked"]


async def test_expired_link_is_refused_with_a_clear_page(
    h: Harness, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    delivery = _delivery("01expiredlinktest0000000001")
    channels = channels_for(settings, h.database_url)
    acts = RequestActivities(h.database_url, Outbox(settings.outbox_path), channels=channels)
    ActivityEnvironment().run(acts.deliver, delivery)
    [url] = LINK.findall(smtp[0].messages[-1].get_content())
    with session_scope(h.database_url) as session:
        session.execute(
            update(DownloadLink)
            .where(DownloadLink.request_id == delivery.request_id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    app = create_app(settings, database_url=h.database_url, temporal_client=h.client)
    async with web(app) as browser:
        page = await browser.get(url)
    assert page.status_code == 410 and "expired" in page.text
    assert "Avery" not in page.text
    with session_scope(h.database_url) as session:
        events = links.access_events(session, delivery.request_id)
    assert [e.outcome for e in events] == ["expired"]


async def test_retried_delivery_sends_one_email_with_the_same_link(
    h: Harness, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    delivery = _delivery("01retrieddeliverytest000001")
    channels = channels_for(settings, h.database_url)
    acts = RequestActivities(h.database_url, Outbox(settings.outbox_path), channels=channels)
    before = len(inbox.messages)
    first = ActivityEnvironment().run(acts.deliver, delivery)
    second = ActivityEnvironment().run(acts.deliver, delivery)
    assert len(inbox.messages) == before + 1
    assert second.reference  # the recorded send, not a second one
    assert first.documents == 2 and first.withheld == 1  # the 2019 visit is out of dates


def _delivery(request_id: str) -> Delivery:
    data = factories.own_records()
    sub = RecordRequestSubmission.model_validate(data)
    contact = sub.delivery_contact()
    return Delivery(
        key=f"{request_id}-deliver",
        request_id=request_id,
        tracking_number="ROI-TEST0-00001",
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        email=contact.email,
        address_lines=contact.address.lines() if contact.address else [],
        description="Visit notes and lab results",
        patient_key=patient_key(
            sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
        ),
        submission=sub,
    )
