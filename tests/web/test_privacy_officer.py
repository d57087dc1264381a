"""The privacy officer (issue 14): reads the security events, the disclosures across sites and
each request's audit trail with its download-link accesses; changes nothing; every view is
itself audited. (Which routes the role may use at all: tests/web/test_roles.py.)"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from app.accounts import DEMO_ACCOUNTS
from app.roles import Role
from domain.effects import DisclosureRecord
from domain.types import DeliveryMethod, DisclosureCategory
from services import links as link_service
from store import links
from store.db import session_scope
from store.models import RequestEvent, SecurityEvent
from store.repository import record_disclosure
from tests.web.conftest import Staff
from tests.web.helpers import PASSWORD, add_staff, insert_request, sign_in


def _disclose(
    db: str, request_id: str, at: datetime, category: DisclosureCategory, purpose: str
) -> None:
    with session_scope(db) as session:
        record_disclosure(
            session,
            DisclosureRecord(
                key=f"test-{uuid.uuid4().hex}",
                request_id=request_id,
                disclosed_at=at,
                disclosed_by="engine",
                recipient_name="Hennepin County District Court",
                recipient_address="300 S 6th St, Minneapolis",
                description="Emergency department notes",
                purpose=purpose,
                method=DeliveryMethod.US_MAIL,
                category=category,
                authorization_ref=None,
                patient_key=None,
            ),
        )


def _privacy_views(db: str, actor: str) -> list[SecurityEvent]:
    with session_scope(db) as session:
        rows = list(
            session.execute(
                select(SecurityEvent)
                .where(col(SecurityEvent.actor) == actor)
                .where(col(SecurityEvent.action) == "privacy.viewed")
                .order_by(col(SecurityEvent.id))
            ).scalars()
        )
        session.expunge_all()
        return rows


def _request_events(db: str, request_id: str, action: str) -> list[RequestEvent]:
    with session_scope(db) as session:
        rows = list(
            session.execute(
                select(RequestEvent)
                .where(col(RequestEvent.request_id) == request_id)
                .where(col(RequestEvent.action) == action)
            ).scalars()
        )
        session.expunge_all()
        return rows


async def test_lands_on_the_security_events_and_filters_them(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    admin = await sign_in(web_app, staff.names["admin"])  # an auth.login event to find
    await admin.aclose()
    officer = await sign_in(web_app, staff.names["privacy"])
    home = await officer.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/privacy/security-events"
    page = await officer.get("/privacy/security-events")
    assert page.status_code == 200 and 'id="security-table"' in page.text
    assert "auth.login" in page.text and "Security events" in page.text

    filtered = await officer.get(
        "/privacy/security-events",
        params={"action": "auth.login", "outcome": "ok", "actor": staff.names["admin"]},
    )
    assert filtered.status_code == 200
    body = filtered.text.split('id="security-table"')[1]
    assert staff.names["admin"] in body and "auth.login" in body
    assert staff.names["supervisor"] not in body  # another actor's rows are filtered out
    assert "account.create" not in body
    for path in ("/privacy/security-events", "/privacy/disclosures", "/privacy/disclosures.csv"):
        last_day = await officer.get(path, params={"from": "9999-12-31", "to": "9999-12-31"})
        assert last_day.status_code == 200, (path, last_day.status_code)  # was a 500

    nothing = await officer.get(
        "/privacy/security-events", params={"from": "2001-01-01", "to": "2001-01-02"}
    )
    assert "No event matches" in nothing.text
    # pages: 50 a page, newest first
    first = await officer.get("/privacy/security-events")
    assert "page 1 of" in first.text
    if 'id="next-page"' in first.text:
        second = await officer.get("/privacy/security-events", params={"page": 2})
        assert second.status_code == 200 and "page 2 of" in second.text

    views = [v.detail for v in _privacy_views(web_db, staff.ids["privacy"])]
    filtered_view = [v for v in views if v.get("filters") == ["action", "outcome", "actor"]]
    assert filtered_view, views
    assert filtered_view[-1]["page"] == "security_events"
    assert filtered_view[-1]["actor_filter"] == staff.ids["admin"]  # the account id, not a name
    assert staff.names["admin"] not in str(views)  # what was typed is not copied
    await officer.aclose()


async def test_disclosures_across_sites_filtered_exported_and_audited(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:8]
    mn = insert_request(web_db, site="minnesota")
    az = insert_request(web_db, site="arizona")
    at = datetime(2011, 3, 15, 14, 0, tzinfo=UTC)
    _disclose(web_db, mn, at, DisclosureCategory.COURT_ORDER, f"Court order {tag}")
    _disclose(web_db, az, at + timedelta(days=1), DisclosureCategory.AUTHORIZATION, f"Claim {tag}")
    _disclose(web_db, az, at + timedelta(days=40), DisclosureCategory.SUBPOENA, f"Subpoena {tag}")

    officer = await sign_in(web_app, staff.names["privacy"])
    window = {"from": "2011-03-01", "to": "2011-03-31", "purpose": tag}
    page = await officer.get("/privacy/disclosures", params=window)
    assert page.status_code == 200
    table = page.text.split('id="disclosure-table"')[1]
    assert f"Court order {tag}" in table and f"Claim {tag}" in table
    assert f"Subpoena {tag}" not in table  # outside the dates
    assert "Hennepin County District Court" in table and "Minnesota" in table
    assert "2 disclosures" in page.text

    by_site = await officer.get("/privacy/disclosures", params={**window, "site": "arizona"})
    assert f"Claim {tag}" in by_site.text and f"Court order {tag}" not in by_site.text
    accountable = await officer.get("/privacy/disclosures", params={**window, "accountable": "1"})
    assert f"Court order {tag}" in accountable.text  # a court order is in an accounting
    assert f"Claim {tag}" not in accountable.text  # a signed authorization's is not
    by_category = await officer.get(
        "/privacy/disclosures", params={"purpose": tag, "category": "subpoena"}
    )
    assert f"Subpoena {tag}" in by_category.text and f"Claim {tag}" not in by_category.text

    exported = await officer.get("/privacy/disclosures.csv", params={"purpose": tag})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["purpose"] for r in rows] == [f"Subpoena {tag}", f"Claim {tag}", f"Court order {tag}"]
    assert {r["site"] for r in rows} == {"minnesota", "arizona"}
    assert [r["in_accounting"] for r in rows] == ["yes", "no", "yes"]

    # every view is audited: the officer's security events, and a row on each request shown
    views = [v.detail for v in _privacy_views(web_db, staff.ids["privacy"])]
    assert {"page": "disclosures.csv", "filters": ["purpose"], "rows": 3} in views
    assert tag not in str(views)  # the purpose typed is not copied into the log
    # shown on the page and on the "in an accounting" page; not on Arizona's or the subpoenas'
    assert len(_request_events(web_db, mn, "disclosures.listed")) == 2
    assert _request_events(web_db, az, "disclosures.exported")[0].actor == staff.ids["privacy"]
    await officer.aclose()

    # an officer of one site sees that site's disclosures only
    add_staff(web_db, f"privacy.az.{tag}", PASSWORD, "privacy_officer", ["arizona"])
    local = await sign_in(web_app, f"privacy.az.{tag}")
    seen = (await local.get("/privacy/disclosures", params={"purpose": tag})).text
    assert f"Claim {tag}" in seen and f"Court order {tag}" not in seen
    assert (await local.get(f"/requests/{mn}/audit")).status_code == 403
    await local.aclose()


async def test_audit_trail_with_download_accesses_for_every_team_and_audited(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    rid = insert_request(web_db, site="florida", team="amendment", kind="amendment")
    now = datetime.now(UTC)
    link = links.create_link(
        web_db,
        delivery_key=f"{rid}-deliver",
        request_id=rid,
        patient_key=None,
        package_path="/nonexistent.pdf",
        content_type="application/pdf",
        now=now,
        ttl=timedelta(days=30),
    )
    with session_scope(web_db) as session:
        link_service.open_download(session, link.id, now=now, client="client-label-1")
    with session_scope(web_db) as session:
        link_service.revoke(session, request_id=rid, actor=staff.ids["supervisor"], at=now)
    with session_scope(web_db) as session:
        link_service.open_download(session, link.id, now=now, client="client-label-2")

    officer = await sign_in(web_app, staff.names["privacy"])
    page = await officer.get(f"/requests/{rid}/audit")
    assert page.status_code == 200
    accesses = page.text.split('id="audit-accesses"')[1]
    assert "served" in accesses and "revoked" in accesses and "client-label" in accesses
    assert f"by {staff.names['supervisor']}" in page.text
    # the request page itself (its PHI, its forms) stays closed: the officer changes nothing
    assert (await officer.get(f"/requests/{rid}")).status_code == 403
    await officer.aclose()
    [viewed] = _request_events(web_db, rid, "audit.viewed")
    assert viewed.actor == staff.ids["privacy"]


def test_privacy_officer_is_a_role_of_the_cli_and_the_demo(
    web_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from config.settings import get_settings
    from starter import app as roi

    assert ("demo.privacy", Role.PRIVACY_OFFICER) in DEMO_ACCOUNTS
    monkeypatch.setenv("ROI_DATABASE_URL", web_db)
    get_settings.cache_clear()
    try:
        name = f"cli.privacy.{uuid.uuid4().hex[:6]}"
        result = CliRunner().invoke(
            roi,
            ["users", "create", name, "--role", "privacy_officer"],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert f"created privacy_officer {name}" in result.output
