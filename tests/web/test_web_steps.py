"""Issue 15, "every step from the web app": steps that had only a CLI before. Recording a
disclosure made outside the engine, a site's batch previewed and run, intake API tokens, and
clearing an account's sign-in delay."""

from __future__ import annotations

import asyncio
import inspect
import re
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select, update
from sqlmodel import col

from app import throttle
from config.settings import get_settings
from domain.patients import patient_key
from domain.types import Site
from services import batch as batch_service
from store.db import session_scope
from store.models import BatchItem, BatchRun, Disclosure, RecordRequest, RequestEvent, SecurityEvent
from tests import factories
from tests.web.conftest import Staff
from tests.web.helpers import (
    PASSWORD,
    add_staff,
    client,
    csrf,
    csrf_from,
    insert_request,
    sign_in,
)


def _disclosure_form(**overrides: str) -> dict[str, str]:
    when = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "disclosed_at": when,
        "recipient_name": "County Public Health Department",
        "recipient_address": "1 Main St, Saint Paul MN",
        "description": "Immunization record",
        "purpose": "Required report",
        "category": "public_health",
        "method": "us_mail",
    }
    form.update(overrides)
    return form


async def test_a_disclosure_made_outside_the_engine_is_recorded_from_the_web(
    web_app: FastAPI, staff: Staff, web_db: str
) -> None:
    key = patient_key("Synthetic", "Testpatient", datetime(1984, 3, 9).date())
    rid = insert_request(web_db, site="minnesota", patient_key=key)
    c = await sign_in(web_app, staff.names["specialist"])
    token = await csrf(c)
    page = await c.get(f"/requests/{rid}/disclosures")
    assert page.status_code == 200
    assert 'id="form-disclosure"' in page.text

    # every field's refusal next to it, in plain words
    future = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    bad = _disclosure_form(disclosed_at=future, recipient_name="", category="")
    refused = await c.post(f"/requests/{rid}/disclosures", data={**bad, "csrf_token": token})
    assert refused.status_code == 422
    html = refused.text
    assert re.search(r'data-field="recipient_name">This is required\.<', html)
    assert re.search(r'data-field="category">This is required\.<', html)
    assert 'data-field="disclosed_at"' not in html  # the model stops before the date rule
    late = _disclosure_form(disclosed_at=future)
    refused = await c.post(f"/requests/{rid}/disclosures", data={**late, "csrf_token": token})
    assert refused.status_code == 422
    assert re.search(
        r'data-field="disclosed_at">The disclosure date cannot be in the future\.<', refused.text
    )
    odd = _disclosure_form(disclosed_at="yesterday", category="gossip")
    refused = await c.post(f"/requests/{rid}/disclosures", data={**odd, "csrf_token": token})
    assert refused.status_code == 422
    assert "Use a date and time with its time zone" in refused.text
    assert "Choose one of the listed options." in refused.text
    assert "Input should be" not in refused.text  # never a validator's own words

    done = await c.post(
        f"/requests/{rid}/disclosures", data={**_disclosure_form(), "csrf_token": token}
    )
    assert done.status_code == 303
    with session_scope(web_db) as session:
        rows = list(
            session.execute(select(Disclosure).where(col(Disclosure.request_id) == rid)).scalars()
        )
        events = list(
            session.execute(
                select(RequestEvent).where(
                    col(RequestEvent.request_id) == rid,
                    col(RequestEvent.action) == "disclosure.recorded",
                )
            ).scalars()
        )
    assert len(rows) == 1
    assert rows[0].source == "staff" and rows[0].patient_key == key  # in the accounting
    assert rows[0].category == "public_health"
    assert rows[0].disclosed_by == staff.ids["specialist"]
    assert rows[0].disclosed_at.tzinfo is not None
    assert len(events) == 1 and events[0].actor == staff.ids["specialist"]
    assert events[0].detail == {
        "disclosure": rows[0].disclosure_key,
        "category": "public_health",
        "method": "us_mail",
    }
    listed = await c.get(f"/requests/{rid}/disclosures")
    assert "County Public Health Department" in listed.text
    assert rows[0].disclosure_key in listed.text
    await c.aclose()

    # another site's specialist, and another team, are refused (403) and nothing is recorded
    for who in ("specialist_az", "amendment", "admin"):
        other = await sign_in(web_app, staff.names[who])
        token = await csrf(other)
        response = await other.post(
            f"/requests/{rid}/disclosures", data={**_disclosure_form(), "csrf_token": token}
        )
        assert response.status_code == 403, who
        await other.aclose()
    with session_scope(web_db) as session:
        count = len(
            list(session.execute(select(Disclosure).where(col(Disclosure.request_id) == rid)))
        )
    assert count == 1


# ---- a site's batch ---------------------------------------------------------------------


async def _until_finished(web_db: str, batch_id: str) -> BatchRun:
    for _ in range(400):
        with session_scope(web_db) as session:
            run = session.get(BatchRun, batch_id)
            if run is not None and run.status != "running":
                session.expunge(run)
                return run
        await asyncio.sleep(0.05)
    raise AssertionError("the batch run never finished")


async def test_a_supervisor_previews_and_runs_a_sites_batch_from_the_web(
    web_app: FastAPI, staff: Staff, web_db: str
) -> None:
    rid = insert_request(web_db, site="wisconsin", delivery_method="us_mail")
    queued_at = datetime.now(UTC) - timedelta(hours=2)
    with session_scope(web_db) as session:
        tracking = session.get(RecordRequest, rid).tracking_number  # type: ignore[union-attr]
        session.add(
            BatchItem(
                delivery_key=f"{rid}-test-delivery",
                request_id=rid,
                workflow_id=f"roi-{rid}",
                site="wisconsin",
                method="us_mail",
                delivery={},
                queued_at=queued_at,
            )
        )
    sup = await sign_in(web_app, staff.names["supervisor"])
    token = await csrf(sup)
    page = await sup.get("/board/batch/wisconsin")
    assert page.status_code == 200
    queue_table = re.search(r'id="batch-queue".*?</table>', page.text, re.S)
    assert queue_table and tracking in queue_table.group(0)
    assert queued_at.strftime("%Y-%m-%d %H:%M") in queue_table.group(0)
    # the same data as `roi batch preview`
    with session_scope(web_db) as session:
        (found,) = batch_service.preview(
            session, [Site.WISCONSIN], datetime.now(UTC), get_settings().batch_time
        )
    assert [i.tracking_number for i in found.items] == [tracking]
    assert f"{found.next_run:%b %d %Y, %H:%M}" in page.text

    # this request has no workflow to take the delivery: out of the queue before the run
    with session_scope(web_db) as session:
        session.execute(
            update(BatchItem).where(col(BatchItem.request_id) == rid).values(status="held")
        )
    ran = await sup.post("/board/batch/wisconsin/run", data={"csrf_token": token})
    assert ran.status_code == 303 and ran.headers["location"] == "/board/batch/wisconsin"
    with session_scope(web_db) as session:
        event = (
            session.execute(
                select(SecurityEvent)
                .where(col(SecurityEvent.action) == "batch.run")
                .order_by(col(SecurityEvent.id).desc())
            )
            .scalars()
            .first()
        )
        assert event is not None
        batch_id = event.detail["batch"]
        assert event.actor == staff.ids["supervisor"]
        assert event.detail["site"] == "wisconsin"
    assert batch_id.startswith("roi-batch-wisconsin-manual-")
    run = await _until_finished(web_db, batch_id)
    assert run.trigger == "manual" and run.status == "finished"
    shown = (await sup.get("/board/batch/wisconsin")).text
    assert f"Batch run {batch_id} started" in shown  # the flash
    assert re.search(rf'data-batch="{batch_id}" data-status="finished"', shown)
    await sup.aclose()

    # a supervisor of another site, and a specialist, are refused
    add_staff(web_db, "web.sup.az", PASSWORD, "supervisor", ["arizona"])
    for name in ("web.sup.az", staff.names["specialist"]):
        other = await sign_in(web_app, name)
        token = await csrf(other)
        assert (await other.get("/board/batch/wisconsin")).status_code == 403
        response = await other.post("/board/batch/wisconsin/run", data={"csrf_token": token})
        assert response.status_code == 403
        await other.aclose()


# ---- intake API tokens ------------------------------------------------------------------


async def test_an_admin_creates_lists_and_revokes_intake_tokens_from_the_web(
    web_app: FastAPI, staff: Staff, web_db: str
) -> None:
    started = datetime.now(UTC)  # the role matrix made and revoked tokens as this admin before
    admin = await sign_in(web_app, staff.names["admin"])
    token = await csrf(admin)
    assert (await admin.get("/admin/tokens")).status_code == 200
    empty = await admin.post("/admin/tokens", data={"name": " ", "csrf_token": token})
    assert empty.status_code == 422
    assert re.search(r'data-field="name">This is required\.<', empty.text)
    created = await admin.post("/admin/tokens", data={"name": "Fax-Gateway", "csrf_token": token})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    found = re.search(r'id="token-value"[^>]*value="(roi_[^"]+)"', created.text)
    assert found, "the new token is not shown"
    secret = found.group(1)
    assert created.text.count(secret) == 1  # once, in the box to copy
    again = await admin.post("/admin/tokens", data={"name": "fax-gateway", "csrf_token": token})
    assert again.status_code == 422
    assert "A token with that name exists; revoke it first." in again.text
    assert secret not in again.text

    listed = (await admin.get("/admin/tokens")).text
    assert 'data-client="fax-gateway"' in listed and secret not in listed  # never again
    body = factories.own_records(received_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    bearer = {"Authorization": f"Bearer {secret}"}
    submitted = await admin.post("/api/v1/requests/access_own", json=body, headers=bearer)
    assert submitted.status_code == 201, submitted.text  # the token works

    revoked = await admin.post(
        "/admin/tokens/fax-gateway/revoke", data={"csrf_token": token}, follow_redirects=True
    )
    assert revoked.status_code == 200
    assert "The token of fax-gateway is revoked" in revoked.text
    assert re.search(r'data-client="fax-gateway" class="inactive"', revoked.text)
    refused = await admin.post("/api/v1/requests/access_own", json=body, headers=bearer)
    assert refused.status_code == 401
    twice = await admin.post("/admin/tokens/fax-gateway/revoke", data={"csrf_token": token})
    assert twice.status_code == 422 and "No active token with that name." in twice.text
    await admin.aclose()

    with session_scope(web_db) as session:
        events = list(
            session.execute(
                select(SecurityEvent).where(
                    col(SecurityEvent.action).in_(["token.create", "token.revoke"]),
                    col(SecurityEvent.actor) == staff.ids["admin"],
                    col(SecurityEvent.at) >= started,
                )
            ).scalars()
        )
    assert {e.action for e in events} == {"token.create", "token.revoke"}
    assert all(e.detail == {"client": "fax-gateway"} for e in events)
    assert all(secret not in str(e.detail) for e in events)

    spec = await sign_in(web_app, staff.names["specialist"])
    token = await csrf(spec)
    assert (await spec.get("/admin/tokens")).status_code == 403
    no = await spec.post("/admin/tokens", data={"name": "sneaky", "csrf_token": token})
    assert no.status_code == 403
    await spec.aclose()


# ---- an account's sign-in delay ---------------------------------------------------------


async def test_an_admin_clears_an_accounts_sign_in_delay(
    web_app: FastAPI, staff: Staff, web_db: str
) -> None:
    name = staff.names["specialist2"]
    started = datetime.now(UTC)  # the role matrix cleared delays before
    for _ in range(5):  # the free allowance, then a wait (30 s in the tests' app)
        c = client(web_app)
        page = await c.get("/login")
        wrong = {"username": name, "password": "not-the-password", "csrf_token": ""}
        wrong["csrf_token"] = csrf_from(page.text)
        assert (await c.post("/login", data=wrong)).status_code == 401
        await c.aclose()
    c = client(web_app)
    page = await c.get("/login")
    right = {"username": name, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    assert (await c.post("/login", data=right)).status_code == 429  # waiting
    await c.aclose()

    admin = await sign_in(web_app, staff.names["admin"])
    token = await csrf(admin)
    users = (await admin.get("/admin/users")).text
    assert f'action="/admin/users/{staff.ids["specialist2"]}/sign-in-delay/clear"' in users
    cleared = await admin.post(
        f"/admin/users/{staff.ids['specialist2']}/sign-in-delay/clear",
        data={"csrf_token": token},
    )
    assert cleared.status_code == 303 and cleared.headers["location"] == "/admin/users"
    shown = (await admin.get("/admin/users")).text
    assert f"{name} may sign in again now" in shown
    await admin.aclose()
    with session_scope(web_db) as session:
        event = session.execute(
            select(SecurityEvent).where(
                col(SecurityEvent.action) == "throttle.clear", col(SecurityEvent.at) >= started
            )
        ).scalar_one()
    assert event.actor == staff.ids["admin"]
    assert event.detail == {
        "account": staff.ids["specialist2"],
        "failures": 5,
        "was_waiting": True,
    }
    again = await sign_in(web_app, name)  # at once
    await again.aclose()

    spec = await sign_in(web_app, staff.names["specialist"])
    token = await csrf(spec)
    no = await spec.post(
        f"/admin/users/{staff.ids['specialist2']}/sign-in-delay/clear", data={"csrf_token": token}
    )
    assert no.status_code == 403
    await spec.aclose()


def test_the_sign_in_bucket_is_named_in_one_place() -> None:
    from app.routes import session as session_routes

    source = inspect.getsource(session_routes.login)
    assert "throttle.login_user_bucket(username)" in source
    assert throttle.login_user_bucket(" Web.Spec ") == throttle.login_user_bucket("web.spec")
    assert "web.spec" not in throttle.login_user_bucket("web.spec")  # opaque
