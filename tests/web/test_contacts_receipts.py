"""The pages that show a contact give the request's team's (domain.contacts), and the FedEx
tracking number with the $45 receipt is on the request page and the public status page
(issue 15)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import FastAPI

from store.db import session_scope
from store.models import OutboundItem, RecordRequest, RequestEvent
from tests.web.helpers import PASSWORD, add_staff, client, csrf_from, insert_request, sign_in

DOB = date(1984, 3, 9)


def _shipped_and_paid(web_db: str) -> tuple[str, str]:
    """A FedEx imaging request, $45 paid (reference FX-PAY-77), shipped as 794600001111."""
    now = datetime.now(UTC)
    request_id = insert_request(
        web_db,
        kind="imaging",
        status="completed",
        delivery_method="fedex",
        fee_cents=4500,
        paid_cents=4500,
        received_at=now - timedelta(days=5),
        closed_at=now - timedelta(days=1),
    )
    paid_at = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    with session_scope(web_db) as session:
        session.add(
            RequestEvent(
                event_key=f"{request_id}-pay",
                request_id=request_id,
                at=paid_at,
                actor="someone",
                action="payment.recorded",
                detail={"amount_cents": 4500, "reference": "FX-PAY-77"},
            )
        )
        session.add(
            OutboundItem(
                item_key=f"{request_id}-ship",
                request_id=request_id,
                channel="ship",
                kind="records_fedex",
                path=None,
                created_at=now - timedelta(days=1),
                detail={"tracking_number": "794600001111"},
            )
        )
        tracking = session.get(RecordRequest, request_id).tracking_number  # type: ignore[union-attr]
    return request_id, tracking


async def _lookup(app: FastAPI, tracking: str, address: str) -> str:
    async with client(app, address=address) as c:
        token = csrf_from((await c.get("/status")).text)
        response = await c.post(
            "/status",
            data={
                "tracking_number": tracking,
                "date_of_birth": DOB.isoformat(),
                "csrf_token": token,
            },
        )
        assert response.status_code == 200, response.text[:300]
        return response.text


def _tracking_of(web_db: str, request_id: str) -> str:
    with session_scope(web_db) as session:
        return session.get(RecordRequest, request_id).tracking_number  # type: ignore[union-attr]


async def test_status_page_gives_roi_contact_and_each_sites_hours(web_app: FastAPI) -> None:
    async with client(web_app, address="10.31.0.1") as c:
        html = (await c.get("/status")).text
    assert 'id="status-contact"' in html
    for value in ("507-284-4594", "507-284-0161", "MAYOHIMSROI@mayo.edu", "Rochester, MN 55905"):
        assert value in html, value
    hours = "Monday to Friday, 08:00–17:00 in each site&#39;s own time"
    assert f"{hours} (Mountain time, Eastern time, Central time)" in html


async def test_status_gives_the_teams_contact(web_app: FastAPI, web_db: str) -> None:
    amendment = insert_request(web_db, kind="amendment", team="amendment", status="under_review")
    html = await _lookup(web_app, _tracking_of(web_db, amendment), "10.31.0.2")
    assert "HIMSAMENDMENTREQ@mayo.edu" in html and "507-538-7700, option 1" in html
    assert "4500 San Pablo Road, Jacksonville, FL 32224" in html
    assert "MAYOHIMSROI" not in html and "507-284-0161" not in html
    death = insert_request(
        web_db, kind="deceased_notice", team="data_integrity", status="under_review"
    )
    html = await _lookup(web_app, _tracking_of(web_db, death), "10.31.0.3")
    assert "PATRECUPDREQ@mayo.edu" in html and "Attn: HIMS Data Integrity" in html
    assert "MAYOHIMSROI" not in html


async def test_status_shows_fedex_tracking_and_the_receipt(web_app: FastAPI, web_db: str) -> None:
    _, tracking = _shipped_and_paid(web_db)
    html = await _lookup(web_app, tracking, "10.31.0.4")
    assert 'id="status-fedex">794600001111<' in html
    assert "Paid $45.00 on" in html and "FX-PAY-77" in html
    assert "Mountain time" in html and "Minnesota" not in html.split("<main")[1]  # no site named


async def test_request_page_shows_fedex_tracking_receipt_and_contact(
    web_app: FastAPI, web_db: str
) -> None:
    add_staff(web_db, "web.receipts", PASSWORD, "specialist", ["minnesota"])
    c = await sign_in(web_app, "web.receipts")
    request_id, _ = _shipped_and_paid(web_db)
    html = (await c.get(f"/requests/{request_id}")).text
    assert 'id="fedex-tracking">794600001111<' in html
    assert 'id="payment-receipts"' in html and "$45.00" in html and "FX-PAY-77" in html
    assert "Tue Mar 10 2026" in html  # the date paid, in the site's time
    assert 'id="team-contact"' in html and "MAYOHIMSROI@mayo.edu" in html
    assert "Fax 507-284-0161" in html
    # an amendment request: the Amendment Request Specialist's contact
    add_staff(web_db, "web.amend.contact", PASSWORD, "amendment_specialist", ["minnesota"])
    a = await sign_in(web_app, "web.amend.contact")
    amendment = insert_request(web_db, kind="amendment", team="amendment", status="under_review")
    html = (await a.get(f"/requests/{amendment}")).text
    assert "HIMSAMENDMENTREQ@mayo.edu" in html and "507-538-7700, option 1" in html
    assert "MAYOHIMSROI" not in html
    assert 'id="fedex-tracking"' not in html
