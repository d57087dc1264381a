"""The request page on real workflows: checklist, clocks, timeline, and actions as Updates with
refusals shown inline next to their field."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from domain.types import Status
from store.db import session_scope
from store.models import RecordRequest
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import csrf, sign_in


async def _start(h: Harness, data: dict[str, Any]) -> str:
    result = await h.submit(data)
    assert result.accepted, result.errors
    rid = result.request_id or ""
    for _ in range(200):
        with session_scope(h.database_url) as session:
            row = session.get(RecordRequest, rid)
            if row is not None and row.status not in ("received",):
                return rid
        await asyncio.sleep(0.05)
    raise AssertionError("never triaged")


async def _wait_status(h: Harness, rid: str, *wanted: str) -> None:
    for _ in range(300):
        with session_scope(h.database_url) as session:
            row = session.get(RecordRequest, rid)
            if row is not None and row.status in wanted:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached {wanted}")


def form_html(page: str, name: str) -> str:
    """The HTML of one action's form."""
    found = re.search(rf'<form[^>]*id="form-{name}".*?</form>', page, re.S)
    assert found, f"no {name} form"
    return found.group(0)


def field_errors(page: str, action: str, field: str) -> list[str]:
    found = re.findall(rf'data-field="{re.escape(action)}:{re.escape(field)}">([^<]*)<', page)
    return [html.unescape(m) for m in found]


async def _act(c: httpx.AsyncClient, rid: str, action: str, **data: Any) -> httpx.Response:
    return await c.post(
        f"/requests/{rid}/actions/{action}", data={"csrf_token": await csrf(c), **data}
    )


def received_now() -> str:
    return (datetime.now(UTC) - timedelta(hours=3)).isoformat()


@pytest.fixture
async def spec(web_app: FastAPI, staff: Staff) -> httpx.AsyncClient:
    c = await sign_in(web_app, staff.names["specialist"])
    yield c
    await c.aclose()


async def test_own_records_verify_then_release(
    spec: httpx.AsyncClient, web_worker: Harness, staff: Staff
) -> None:
    rid = await _start(web_worker, factories.own_records(received_at=received_now()))
    page = (await spec.get(f"/requests/{rid}")).text
    assert "Avery Q Testpatient" in page and "1984-03-09" in page
    assert "All visit notes and lab results" in page
    assert "Not needed: the patient's own request" in page  # no 164.508 form demanded
    assert "Central time (America/Chicago)" in page and "business days left" in page
    assert 'id="verify-method"' in page and "autofocus" in form_html(page, "verify")

    # Releasing before verification is refused by the workflow, shown at the release button.
    refused = await _act(spec, rid, "complete")
    assert refused.status_code == 422
    assert "Verify identity and authority before release." in form_html(refused.text, "complete")

    ok = await _act(spec, rid, "verify", method="photo_id")
    assert ok.status_code == 303
    page = (await spec.get(f"/requests/{rid}")).text
    assert "Identity verified." in page  # the workflow's own answer, shown once
    assert "autofocus" in form_html(page, "complete")  # the keyboard path goes on to release

    assert (await _act(spec, rid, "complete")).status_code == 303
    await _wait_status(web_worker, rid, Status.COMPLETED.value)
    page = (await spec.get(f"/requests/{rid}")).text
    assert "identity verified" in page and "release approved" in page
    assert "request completed" in page
    assert "records email link" in page  # the documents sent
    assert 'id="next-button"' in page


async def test_refusals_sit_next_to_their_field(
    spec: httpx.AsyncClient, web_worker: Harness
) -> None:
    rid = await _start(web_worker, factories.imaging_fedex(received_at=received_now()))
    wrong = await _act(spec, rid, "record_payment", amount="40.00", reference="chk-1")
    assert wrong.status_code == 422
    assert field_errors(wrong.text, "record_payment", "amount") == ["The amount owed is 45.00 USD."]
    assert 'value="40.00"' in form_html(wrong.text, "record_payment")  # what was typed stays
    not_money = await _act(spec, rid, "record_payment", amount="forty", reference="chk-1")
    assert field_errors(not_money.text, "record_payment", "amount") == [
        "Give an amount like 45.00."
    ]
    no_ref = await _act(spec, rid, "record_payment", amount="45.00", reference="")
    assert field_errors(no_ref.text, "record_payment", "reference")
    assert (
        await _act(spec, rid, "record_payment", amount="45.00", reference="chk-1")
    ).status_code == 303

    too_far = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    r = await _act(spec, rid, "extend", new_due_date=too_far, reason="Records at archive")
    assert r.status_code == 422
    [message] = field_errors(r.text, "extend", "new_due_date")
    assert "at most 30 days" in message
    assert "<details open" in r.text  # the form with the error is open
    r = await _act(spec, rid, "extend", new_due_date="", reason="")
    assert field_errors(r.text, "extend", "reason")
    r = await _act(spec, rid, "add_note", text="Patient called; wants the CD instead.")
    assert r.status_code == 303
    page = (await spec.get(f"/requests/{rid}")).text
    assert "Patient called; wants the CD instead." in page


async def test_authorization_checklist_and_correction(
    spec: httpx.AsyncClient, web_worker: Harness
) -> None:
    auth = factories.valid_authorization(purpose=None, statement_redisclosure=False)
    rid = await _start(
        web_worker, factories.third_party(received_at=received_now(), authorization=auth)
    )
    page = (await spec.get(f"/requests/{rid}")).text
    rows = dict(
        re.findall(r'data-element="([^"]+)">\s*<td>[^<]*</td>\s*<td><span class="ck (\w+)"', page)
    )
    assert rows["purpose"] == "bad" and rows["statement_redisclosure"] == "bad"
    assert rows["information_description"] == "ok" and rows["signed"] == "ok"
    assert rows["representative_authority"] == "na"  # signed by the patient
    assert "State the purpose of the release" in page  # the rule's own words

    fields = {
        f"authorization.{k}": v
        for k, v in factories.valid_authorization().items()
        if not isinstance(v, bool)
    }
    flags = {
        f"authorization.{k}": "on" for k, v in factories.valid_authorization().items() if v is True
    }
    r = await _act(spec, rid, "correct_authorization", **fields, **flags)
    assert r.status_code == 303
    page = (await spec.get(f"/requests/{rid}")).text
    assert "The corrected authorization is valid." in page
    assert 'class="ck bad"' not in page
    assert 'id="request-status">awaiting verification' in page

    # A representative asking under the right of access must have authority confirmed.
    rep = factories.own_records(received_at=received_now())
    rep["requester"] = {**rep["requester"], "first_name": "Pat", "relationship": "parent"}
    rid2 = await _start(web_worker, rep)
    r = await _act(spec, rid2, "verify", method="photo_id")
    assert r.status_code == 422
    assert field_errors(r.text, "verify", "authority_confirmed") == [
        "A personal representative's legal authority must be checked."
    ]


async def test_case_kinds_use_their_own_updates(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    rid = await _start(web_worker, factories.amendment(received_at=received_now()))
    roi = await sign_in(web_app, staff.names["specialist"])
    assert (await roi.get(f"/requests/{rid}")).status_code == 403  # another team's work
    amend = await sign_in(web_app, staff.names["amendment"])
    page = (await amend.get(f"/requests/{rid}")).text
    assert "Deny the amendment" in page and "Accept the amendment" in page
    r = await _act(amend, rid, "amendment_deny", basis="accurate_and_complete", explanation="")
    assert r.status_code == 422 and field_errors(r.text, "amendment_deny", "explanation")
    r = await _act(
        amend,
        rid,
        "amendment_deny",
        basis="accurate_and_complete",
        explanation="The allergy entry matches the source documents.",
    )
    assert r.status_code == 303
    await _wait_status(web_worker, rid, "awaiting_disagreement", "denied")
    await roi.aclose()
    await amend.aclose()


async def _pay_quote(h: Harness, spec: httpx.AsyncClient, rid: str) -> str:
    """Record the quoted fee on the request page as staff do when the check arrives (the form
    holds what is owed); returns the page the payment was made on."""
    await _wait_status(h, rid, "awaiting_payment")
    page = (await spec.get(f"/requests/{rid}")).text
    found = re.search(r'id="pay-amount" name="amount" inputmode="decimal" value="([^"]+)"', page)
    assert found, "no payment form"
    r = await _act(spec, rid, "record_payment", amount=found.group(1), reference="CHK-2001")
    assert r.status_code == 303, r.text[:300]
    return page


async def test_a_third_partys_quote_is_itemized_on_the_page_and_paid_before_release(
    web_worker: Harness, spec: httpx.AsyncClient
) -> None:
    """The law firm's quote: pages × rate and the search fee, for the attorney row of the site's
    schedule; release is refused until the payment is recorded on the page."""
    rid = await _start(web_worker, factories.third_party(received_at=received_now()))
    assert (await _act(spec, rid, "verify", method="photo_id")).status_code == 303
    await _wait_status(web_worker, rid, "awaiting_payment")
    refused = await _act(spec, rid, "complete")
    assert refused.status_code in (403, 422)  # not offered, or refused by the workflow
    page = await _pay_quote(web_worker, spec, rid)
    schedule = re.search(r'id="fee-schedule".*?</p>', page, re.S)
    assert schedule and "attorney" in schedule.group(0)
    lines = dict(re.findall(r'<tr data-fee="([a-z_]+)"><td>([^<]+)</td>', page))
    assert lines["third_party_search"] == "Search and retrieval"
    assert re.fullmatch(r"Copies: \d+ pages × \$1\.00", lines["third_party_pages"]), lines
    await _wait_status(web_worker, rid, "ready_to_release")
    assert (await _act(spec, rid, "complete")).status_code == 303
    await _wait_status(web_worker, rid, "completed")
    assert len(web_worker.disclosures(rid)) == 1


async def test_a_held_release_shows_why_and_offers_its_answer(
    web_app: FastAPI, web_worker: Harness, spec: httpx.AsyncClient
) -> None:
    """A release held for the second-specialist check: the page says why and offers the check
    (and only then); the form reaches the workflow's own Update, whose refusal shows inline."""
    from app.audit import audit

    rid = await _start(web_worker, factories.third_party(received_at=received_now()))
    await _act(spec, rid, "verify", method="photo_id")
    await _pay_quote(web_worker, spec, rid)
    await _wait_status(web_worker, rid, "ready_to_release")
    page = (await spec.get(f"/requests/{rid}")).text
    assert 'id="hold-banner"' not in page and 'id="form-confirm_quality"' not in page

    with session_scope(web_worker.database_url) as session:  # as the workflow records a hold
        audit(
            session,
            rid,
            "system",
            "release.held",
            datetime.now(UTC),
            codes=["quality_check_required"],
        )
    page = (await spec.get(f"/requests/{rid}")).text
    banner = re.search(r'id="hold-banner".*?</div>', page, re.S)
    assert banner and "Quality check required" in banner.group(0)
    form = form_html(page, "confirm_quality")
    assert 'name="right_patient_on_every_page"' in form and 'name="in_scope"' in form
    assert 'id="form-review_sensitive"' not in page  # not the reason it was held

    r = await _act(spec, rid, "confirm_quality", right_recipient="on")
    assert r.status_code == 422  # the workflow itself answers: it holds no packet for a check
    assert (
        field_errors(r.text, "confirm_quality", "status")
        or "not waiting for a quality check" in r.text
    )


async def test_a_release_for_a_patient_with_no_records_is_held_with_the_reason_on_the_page(
    web_worker: Harness, spec: httpx.AsyncClient
) -> None:
    """The record source holds nothing for the patient: the release stops before anything
    leaves, and the request page says so in words, with what to do next."""
    from store.models import RequestEvent

    data = factories.own_records(received_at=received_now())
    data["patient"] = {**data["patient"], "first_name": "Unfiled"}  # no records at the source
    rid = await _start(web_worker, data)
    assert (await _act(spec, rid, "verify", method="photo_id")).status_code == 303
    assert (await _act(spec, rid, "complete")).status_code == 303
    for _ in range(200):
        with session_scope(web_worker.database_url) as session:
            held = session.execute(
                select(RequestEvent).where(
                    RequestEvent.request_id == rid, RequestEvent.action == "release.held"
                )
            ).scalar_one_or_none()
        if held is not None:
            break
        await asyncio.sleep(0.05)
    await _wait_status(web_worker, rid, "ready_to_release")

    page = (await spec.get(f"/requests/{rid}")).text
    banner = re.search(r'id="hold-banner".*?</div>', page, re.S)
    assert banner, "no hold banner"
    assert "No records found" in banner.group(0)
    assert "The record source holds no records for this patient" in html.unescape(banner.group(0))
    assert "release held" in page and "no_records_found" in page  # the timeline says why
    assert 'id="form-complete"' in page  # released again once the records are filed
    assert web_worker.disclosures(rid) == []
    assert not [o for o in web_worker.outbound(rid) if o.kind.startswith("records_")]


async def test_download_links_listed_and_revoked_with_an_audit_row(
    web_app: FastAPI, web_worker: Harness, spec: httpx.AsyncClient
) -> None:
    """A link sent to the wrong address is withdrawn from the page: later clicks are refused,
    and who revoked it is in the audit trail."""
    from config.settings import get_settings
    from store import links
    from store.models import RequestEvent

    rid = await _start(web_worker, factories.own_records(received_at=received_now()))
    now = datetime.now(UTC)
    link = links.create_link(
        web_worker.database_url,
        delivery_key=f"{rid}-deliver",
        request_id=rid,
        patient_key=None,
        package_path="/nonexistent.pdf",
        content_type="application/pdf",
        now=now,
        ttl=timedelta(days=30),
    )
    page = (await spec.get(f"/requests/{rid}")).text
    assert 'id="links-table"' in page and ">live<" in page
    assert 'id="form-revoke-links"' in page

    r = await spec.post(f"/requests/{rid}/links/revoke", data={"csrf_token": await csrf(spec)})
    assert r.status_code == 303
    page = (await spec.get(f"/requests/{rid}")).text
    assert "revoked" in page and 'id="form-revoke-links"' not in page
    token = links.LinkSigner(get_settings().link_secret).token(link.id)
    refused = await spec.get(f"/download/{token}")
    assert refused.status_code == 410
    with session_scope(web_worker.database_url) as session:
        [event] = session.execute(
            select(RequestEvent).where(
                RequestEvent.request_id == rid, RequestEvent.action == "links.revoked"
            )
        ).scalars()
        assert event.detail == {"links": 1} and event.actor != "system"


async def test_a_copy_in_another_agreed_format_is_confirmed_from_the_page(
    web_worker: Harness, spec: httpx.AsyncClient
) -> None:
    """The patient agreed to another format (164.524(c)(2)): the release waits with the reason
    on the page, the page offers the confirmation (only then), and confirming it releases."""
    from store.models import Disclosure

    data = factories.own_records(
        received_at=received_now(),
        electronic_format="other",
        other_format="C-CDA XML on the patient's USB drive",
    )
    rid = await _start(web_worker, data)
    page = (await spec.get(f"/requests/{rid}")).text
    assert 'id="form-confirm_format"' not in page  # nothing to confirm before the hold
    assert (await _act(spec, rid, "verify", method="photo_id")).status_code == 303
    assert (await _act(spec, rid, "complete")).status_code == 303
    for _ in range(200):
        page = (await spec.get(f"/requests/{rid}")).text
        if 'id="hold-banner"' in page:
            break
        await asyncio.sleep(0.05)
    banner = re.search(r'id="hold-banner".*?</div>', page, re.S)
    assert banner and "C-CDA XML on the patient&#39;s USB drive" in banner.group(0)
    assert 'id="form-confirm_format"' in page
    r = await _act(spec, rid, "confirm_format", note="Burned to the patient's drive")
    assert r.status_code == 303, r.text[:400]
    await _wait_status(web_worker, rid, "completed")
    with session_scope(web_worker.database_url) as session:
        [disclosure] = session.execute(
            select(Disclosure).where(Disclosure.request_id == rid)
        ).scalars()
    assert "C-CDA XML" in disclosure.description


async def test_a_representatives_authority_is_confirmed_from_the_page(
    web_worker: Harness, spec: httpx.AsyncClient
) -> None:
    """An authorization signed by the patient's health care agent (164.502(g)): the verify form
    asks which document proves the authority, a financial power of attorney is refused next
    to its field, and the accepted document lets the release go ahead (after the fee)."""
    authorization = factories.valid_authorization(
        signer_role="health_care_agent",
        representative_authority="Health care agent under the patient's health care directive",
        authority_documents=["Health care power of attorney"],
    )
    data = factories.third_party(
        received_at=received_now(),
        authorization=authorization,
        representative={
            "first_name": "Jordan",
            "last_name": "Agentson",
            "contact": {"email": "jordan.agent@example.org"},
        },
    )
    rid = await _start(web_worker, data)
    page = (await spec.get(f"/requests/{rid}")).text
    assert 'name="authority_document"' in form_html(page, "verify")
    wrong = await _act(
        spec, rid, "verify", method="photo_id", authority_document="financial_power_of_attorney"
    )
    assert wrong.status_code == 422
    assert field_errors(wrong.text, "verify", "authority_document")
    right = await _act(
        spec, rid, "verify", method="photo_id", authority_document="health_care_power_of_attorney"
    )
    assert right.status_code == 303, right.text[:400]
    await _pay_quote(web_worker, spec, rid)
    assert (await _act(spec, rid, "complete")).status_code == 303
    await _wait_status(web_worker, rid, "completed", "queued_for_batch")


async def test_a_representatives_authority_confirmed_after_verification(
    web_worker: Harness, spec: httpx.AsyncClient
) -> None:
    """A corrected form now signed by the patient's guardian after verification: the page
    offers the authority confirmation (only then), refuses a financial power of attorney next
    to its field, and the accepted document makes the request ready to release."""
    from domain import actions
    from domain.authorization import Authorization
    from workflows.record_request import RecordRequestWorkflow as W

    rid = await _start(web_worker, factories.third_party(received_at=received_now()))
    assert (await _act(spec, rid, "verify", method="photo_id")).status_code == 303
    await _pay_quote(web_worker, spec, rid)
    page = (await spec.get(f"/requests/{rid}")).text
    assert 'id="form-confirm_authority"' not in page  # the patient signed: nothing to confirm
    guardian = factories.valid_authorization(
        signer_role="legal_guardian",
        representative_authority="Court-appointed guardian",
        authority_documents=["Letters of guardianship"],
    )
    handle = web_worker.client.get_workflow_handle(f"roi-{rid}")
    await handle.execute_update(  # the corrected form, as the correction form sends it
        W.correct_authorization,
        actions.CorrectAuthorization(
            actor="web.spec", authorization=Authorization.model_validate(guardian)
        ),
    )
    await _wait_status(web_worker, rid, "awaiting_verification")
    page = (await spec.get(f"/requests/{rid}")).text
    assert 'name="authority_document"' in form_html(page, "confirm_authority")
    wrong = await _act(
        spec, rid, "confirm_authority", authority_document="financial_power_of_attorney"
    )
    assert wrong.status_code == 422
    assert field_errors(wrong.text, "confirm_authority", "authority_document")
    right = await _act(spec, rid, "confirm_authority", authority_document="letters_of_guardianship")
    assert right.status_code == 303, right.text[:400]
    await _wait_status(web_worker, rid, "ready_to_release")


async def test_correcting_an_authorization_keeps_its_part2_consent(
    spec: httpx.AsyncClient, web_worker: Harness
) -> None:
    """The correction form has no 42 CFR Part 2 fields: correcting the purpose of an
    authorization that carries a Part 2 consent must not drop the consent (which would stop
    every later release of the substance-use records)."""
    from workflows.record_request import RecordRequestWorkflow as W

    consent = {
        "patient_name": "Avery Q Testpatient",
        "disclosing_party": "Mayo Clinic addiction services",
        "recipient": "Harbor Law Group LLP",
        "information_description": "Substance use disorder treatment notes, 2024",
        "purpose": "Personal injury claim",
        "statement_right_to_revoke": True,
        "expiration_date": "2040-12-31",
        "signed": True,
        "signature_date": "2026-10-01",
    }
    auth = factories.valid_authorization(purpose=None, part2_consent=consent)
    rid = await _start(
        web_worker, factories.third_party(received_at=received_now(), authorization=auth)
    )
    fields = {
        f"authorization.{k}": v
        for k, v in factories.valid_authorization().items()
        if not isinstance(v, bool | dict)
    }
    flags = {
        f"authorization.{k}": "on" for k, v in factories.valid_authorization().items() if v is True
    }
    r = await _act(spec, rid, "correct_authorization", **fields, **flags)
    assert r.status_code == 303, r.text[:400]
    handle = web_worker.client.get_workflow_handle(f"roi-{rid}")
    state = await handle.query(W.status)
    authorization = state.submission.authorization
    assert authorization is not None and authorization.purpose  # the correction took
    assert authorization.part2_consent is not None
    assert authorization.part2_consent.recipient == "Harbor Law Group LLP"
