"""Activities are idempotent: a retry never sends, ships or discloses twice (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from temporalio.testing import ActivityEnvironment
from ulid import ULID

from activities.outbox import Outbox
from activities.request_activities import RequestActivities
from domain.effects import AuditEvent, Delivery, DisclosureRecord, NoticeToSend, Projection
from domain.notices import Notice, NoticeKind
from domain.request import RecordRequestSubmission
from domain.sla import start_clock
from domain.state import RequestState
from domain.types import DeliveryMethod, DisclosureCategory, Site, Status
from store.db import session_scope
from store.models import Disclosure, OutboundItem, RecordRequest, RequestEvent
from tests import factories


@pytest.fixture
def acts(database_url: str, tmp_path: Path) -> RequestActivities:
    return RequestActivities(database_url, Outbox(tmp_path))


def count(database_url: str, model: type, request_id: str) -> int:
    query = select(func.count()).select_from(model).where(model.request_id == request_id)  # type: ignore[attr-defined]
    with session_scope(database_url) as session:
        return session.execute(query).scalar_one()


def new_id() -> str:
    return str(ULID()).lower()


def test_delivery_retried_sends_one_email(
    acts: RequestActivities, tmp_path: Path, database_url: str
) -> None:
    rid = new_id()
    delivery = Delivery(
        key=f"{rid}-deliver",
        request_id=rid,
        tracking_number="ROI-AAAAA-BBBBB",
        method=DeliveryMethod.EMAIL_LINK,
        recipient_name="Avery Testpatient",
        email="avery@example.org",
        description="Visit notes",
    )
    env = ActivityEnvironment()
    first = env.run(acts.deliver, delivery)
    second = env.run(acts.deliver, delivery)
    assert first.reference == Path(second.reference).name
    assert len(list((tmp_path / "email").glob("*.eml"))) == 1
    assert count(database_url, OutboundItem, rid) == 1


def test_fedex_job_written_once(acts: RequestActivities, tmp_path: Path) -> None:
    rid = new_id()
    delivery = Delivery(
        key=f"{rid}-deliver",
        request_id=rid,
        tracking_number="ROI-AAAAA-BBBBB",
        method=DeliveryMethod.FEDEX,
        recipient_name="Avery",
        address_lines=["1 Main St", "Rochester, MN 55901"],
        description="MRI images",
    )
    env = ActivityEnvironment()
    env.run(acts.deliver, delivery)
    env.run(acts.deliver, delivery)
    assert len(list((tmp_path / "ship").glob("*.json"))) == 1


def test_disclosure_recorded_once(acts: RequestActivities, database_url: str) -> None:
    rid = new_id()
    record = DisclosureRecord(
        key=f"{rid}-disclosure",
        request_id=rid,
        disclosed_at=datetime.now(UTC),
        disclosed_by="spec",
        recipient_name="Harbor Law",
        recipient_address="55 Main St",
        description="Visit notes",
        purpose="Claim",
        method=DeliveryMethod.US_MAIL,
        category=DisclosureCategory.AUTHORIZATION,
        authorization_ref=f"{rid}-authorization",
    )
    env = ActivityEnvironment()
    assert env.run(acts.record_disclosure, record) is True
    assert env.run(acts.record_disclosure, record) is False
    assert count(database_url, Disclosure, rid) == 1


def test_notice_rendered_and_sent_once(
    acts: RequestActivities, tmp_path: Path, database_url: str
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
    [pdf] = list((tmp_path / "letters").glob("*.pdf"))
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
    database_url: str, statement: str, table: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), session_scope(database_url) as session:
        session.execute(text(statement.format(t=table)))


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b", "", "x" * 300])
def test_outbox_refuses_unsafe_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        Outbox(tmp_path).write("email", key, ".eml", b"x")
