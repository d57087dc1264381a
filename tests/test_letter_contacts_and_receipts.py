"""The letter the worker sends speaks for the request's team and, on completion, gives the FedEx
tracking number and the payments received, as recorded (issue 15; real PostgreSQL)."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdf
from temporalio.testing import ActivityEnvironment

from activities.request_activities import RequestActivities
from domain.effects import NoticeToSend
from domain.notices import Notice, NoticeKind
from domain.types import DeliveryMethod, Site
from store.db import session_scope
from store.models import BatchItem, RequestEvent
from tests.test_activities import acts, carrier, outbox  # noqa: F401  (fixtures)
from tests.web.helpers import insert_request


def _text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    raw = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", raw).split())


def _notice(kind: NoticeKind, **fields: object) -> Notice:
    return Notice(
        kind=kind,
        site=Site.MINNESOTA,
        tracking_number="ROI-AAAAA-CCCCC",
        issued_on=date(2026, 11, 25),
        recipient_name="Avery Testpatient",
        recipient_address=["100 Example Ave", "Rochester, MN 55901"],
        expected_date=date(2026, 12, 9),
        **fields,  # type: ignore[arg-type]
    )


def _send(acts: RequestActivities, request_id: str, notice: Notice) -> str:  # noqa: F811
    item = NoticeToSend(
        key=f"{request_id}-notice-{notice.kind.value}-1", request_id=request_id, notice=notice
    )
    return str(ActivityEnvironment().run(acts.send_notice, item))


def test_an_amendment_requests_acknowledgement_gives_the_amendment_contact(
    acts: RequestActivities,  # noqa: F811
    database_url: str,
) -> None:
    request_id = insert_request(database_url, kind="amendment", team="amendment")
    path = _send(acts, request_id, _notice(NoticeKind.ACKNOWLEDGEMENT))
    text = _text(Path(path))
    assert "HIMSAMENDMENTREQ@mayo.edu" in text and "4500 San Pablo Road" in text
    assert "MAYOHIMSROI" not in text


def test_completion_letter_gives_the_fedex_tracking_number_and_the_receipt(
    acts: RequestActivities,  # noqa: F811
    database_url: str,
) -> None:
    now = datetime.now(UTC)
    request_id = insert_request(
        database_url, kind="imaging", delivery_method="fedex", status="fulfilling"
    )
    with session_scope(database_url) as session:
        session.add(
            RequestEvent(
                event_key=f"{request_id}-paid",
                request_id=request_id,
                at=datetime(2026, 11, 20, 18, 0, tzinfo=UTC),
                actor="someone",
                action="payment.recorded",
                detail={"amount_cents": 4500, "reference": "FEDEX-FEE-9"},
            )
        )
        session.add(
            BatchItem(
                delivery_key=f"{request_id}-deliver",
                request_id=request_id,
                workflow_id=f"roi-{request_id}",
                site="minnesota",
                method="fedex",
                delivery={},
                queued_at=now - timedelta(hours=3),
                status="sent",
                carrier_tracking_number="794699990000",
                reference="794699990000",
                sent_at=now - timedelta(hours=1),
            )
        )
    notice = _notice(
        NoticeKind.COMPLETION,
        released_items=["CT scan, 2026-10-01"],
        delivery_method=DeliveryMethod.FEDEX,
    )
    text = _text(Path(_send(acts, request_id, notice)))
    assert "FedEx tracking number: 794699990000" in text
    assert "Payment received: $45.00 on November 20, 2026, reference FEDEX-FEE-9." in text
    assert "MAYOHIMSROI@mayo.edu" in text
