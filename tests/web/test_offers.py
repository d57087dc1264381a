"""The request page offers only what the workflow would accept now (the same domain guards its
Updates' validators call): every action it leaves out is refused by the workflow itself. A court
order shows the court-order checks, a subpoena the 164.512(e) assurances, not the 164.508 list."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from domain import actions
from domain.errors import FieldIssue
from services.staff import ActionRefused, perform
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import sign_in
from tests.web.test_request_page import _act, _start, _wait_status, received_now

FORM = re.compile(r'<form[^>]*id="form-([a-z_]+)"')


def offered(page: str) -> set[str]:
    return set(FORM.findall(page)) - {"revoke-links"}


@pytest.fixture
async def spec(web_app: FastAPI, staff: Staff) -> Any:
    c = await sign_in(web_app, staff.names["specialist"])
    yield c
    await c.aclose()


async def _refused(h: Harness, rid: str, action: Any, update: str | None = None) -> None:
    with pytest.raises(ActionRefused):
        await perform(h.client, rid, action, update=update)


async def test_only_what_the_workflow_would_accept_is_offered(
    spec: httpx.AsyncClient, web_worker: Harness, staff: Staff
) -> None:
    rid = await _start(web_worker, factories.own_records(received_at=received_now()))
    page = (await spec.get(f"/requests/{rid}")).text
    shown = offered(page)
    assert {"verify", "deny", "cancel", "extend", "add_note", "choose_delivery"} <= shown
    # not offered, each refused by the workflow whatever the form would say
    assert not shown & {"complete", "record_payment", "mark_deficient", "correct_authorization"}
    assert "Verify identity and authority before release." in page  # why release is not yet
    actor = staff.ids["specialist"]
    await _refused(web_worker, rid, actions.Complete(actor=actor))
    await _refused(
        web_worker, rid, actions.RecordPayment(actor=actor, amount_cents=0, reference="r")
    )
    await _refused(
        web_worker,
        rid,
        actions.MarkDeficient(
            actor=actor, deficiencies=[FieldIssue(field="a", code="b", message="c")]
        ),
    )

    assert (await _act(spec, rid, "verify", method="photo_id")).status_code == 303
    page = (await spec.get(f"/requests/{rid}")).text
    shown = offered(page)
    assert "complete" in shown and "verify" not in shown  # verified once
    await _refused(web_worker, rid, actions.VerifyIdentity(actor=actor, method="photo_id"))


async def test_a_fee_is_offered_while_owed_and_delivery_not_once_paid(
    spec: httpx.AsyncClient, web_worker: Harness, staff: Staff
) -> None:
    rid = await _start(web_worker, factories.imaging_fedex(received_at=received_now()))
    assert "record_payment" in offered((await spec.get(f"/requests/{rid}")).text)
    r = await _act(spec, rid, "record_payment", amount="45.00", reference="chk-9")
    assert r.status_code == 303
    shown = offered((await spec.get(f"/requests/{rid}")).text)
    assert "record_payment" not in shown and "choose_delivery" not in shown
    await _refused(
        web_worker,
        rid,
        actions.ChooseDelivery(actor=staff.ids["specialist"], method="email_link"),
    )


async def test_amendment_denied_then_disagreement_then_rebuttal(
    web_app: FastAPI, web_worker: Harness, staff: Staff
) -> None:
    amend = await sign_in(web_app, staff.names["amendment"])
    rid = await _start(web_worker, factories.amendment(received_at=received_now()))
    shown = offered((await amend.get(f"/requests/{rid}")).text)
    assert {"amendment_accept", "amendment_deny"} <= shown
    assert not shown & {"amendment_disagreement", "amendment_rebuttal"}
    r = await _act(
        amend,
        rid,
        "amendment_deny",
        basis="accurate_and_complete",
        explanation="The allergy entry matches the source documents.",
    )
    assert r.status_code == 303
    await _wait_status(web_worker, rid, "awaiting_disagreement")
    shown = offered((await amend.get(f"/requests/{rid}")).text)
    assert "amendment_disagreement" in shown
    assert not shown & {"amendment_accept", "amendment_deny", "amendment_rebuttal"}
    actor = staff.ids["amendment"]
    await _refused(web_worker, rid, actions.FileStatement(actor=actor, text="x"), "file_rebuttal")

    empty = await _act(amend, rid, "amendment_disagreement", text="")
    assert empty.status_code == 422 and 'data-field="amendment_disagreement:text"' in empty.text
    r = await _act(amend, rid, "amendment_disagreement", text="I was never allergic to it.")
    assert r.status_code == 303
    page = (await amend.get(f"/requests/{rid}")).text
    shown = offered(page)
    assert "amendment_rebuttal" in shown and "amendment_disagreement" not in shown
    assert "amendment disagreement filed" in page  # in the timeline (the audit trail)
    r = await _act(amend, rid, "amendment_rebuttal", text="The source documents show it.")
    assert r.status_code == 303
    await _wait_status(web_worker, rid, "completed")
    assert offered((await amend.get(f"/requests/{rid}")).text) == set()
    await amend.aclose()


async def test_proxy_grant_revoked_from_the_page(
    spec: httpx.AsyncClient, web_worker: Harness, staff: Staff
) -> None:
    rid = await _start(web_worker, factories.proxy_for_minor(received_at=received_now()))
    assert "proxy_revoke" not in offered((await spec.get(f"/requests/{rid}")).text)
    r = await _act(spec, rid, "proxy_decide", decision="approve", documents_verified="on")
    assert r.status_code == 303
    await _wait_status(web_worker, rid, "active")
    shown = offered((await spec.get(f"/requests/{rid}")).text)
    assert "proxy_revoke" in shown and "proxy_decide" not in shown
    r = await _act(spec, rid, "proxy_revoke", reason="The parent's custody order was replaced.")
    assert r.status_code == 303
    await _wait_status(web_worker, rid, "expired")
    page = (await spec.get(f"/requests/{rid}")).text
    assert "proxy revoke requested" in page and "proxy ended" in page


def _rows(page: str, table: str) -> dict[str, str]:
    found = re.search(rf'id="{table}".*?</table>', page, re.S)
    assert found, f"no {table}"
    return dict(
        re.findall(
            r'data-element="([^"]+)">\s*<td>[^<]*</td>\s*<td><span class="ck (\w+)"', found.group(0)
        )
    )


async def test_a_court_order_shows_the_court_order_checks(
    spec: httpx.AsyncClient, web_worker: Harness
) -> None:
    data = factories.third_party(
        kind="court_order",
        received_at=received_now(),
        authorization=None,
        legal_document=factories.COURT,  # not signed by a judge
    )
    rid = await _start(web_worker, data)
    page = (await spec.get(f"/requests/{rid}")).text
    assert "Court order (45 CFR 164.512(e))" in page
    rows = _rows(page, "legal-checklist")
    assert rows["legal_document.signed_by_judge"] == "bad"
    assert rows["legal_document.court"] == "ok" and rows["legal_document.case_number"] == "ok"
    assert "must be signed by a judge or magistrate" in page
    assert 'id="checklist"' not in page and "164.508 checklist" not in page
    assert "Statement: right to revoke in writing" not in page  # not the 164.508 elements
    assert "correct_authorization" not in offered(page)


async def test_a_subpoena_shows_the_assurances(
    spec: httpx.AsyncClient, web_worker: Harness
) -> None:
    data = factories.third_party(
        kind="subpoena",
        received_at=received_now(),
        authorization=None,
        legal_document={**factories.COURT, "assurance_protective_order": True},
    )
    rid = await _start(web_worker, data)
    page = (await spec.get(f"/requests/{rid}")).text
    assert "Subpoena (45 CFR 164.512(e))" in page
    rows = _rows(page, "legal-checklist")
    assert rows["legal_document.assurance_protective_order"] == "ok"
    assert rows["legal_document.assurance_patient_notified"] == "na"
    assert 'id="checklist"' not in page

    alone = factories.third_party(
        kind="subpoena",
        received_at=received_now(),
        authorization=None,
        legal_document=factories.COURT,
    )
    rid = await _start(web_worker, alone)
    page = (await spec.get(f"/requests/{rid}")).text
    rows = _rows(page, "legal-checklist")
    assert rows["legal_document.assurance_patient_notified"] == "bad"
    assert "A subpoena alone is not enough" in page


async def test_review_of_a_denial_is_offered_step_by_step(
    spec: httpx.AsyncClient, web_worker: Harness, staff: Staff
) -> None:
    """Rule hole 6 (issue 15): a reviewable denial offers the patient's request for review,
    then the reviewer, then the decision; the denier is refused as reviewer next to the field."""
    rid = await _start(web_worker, factories.own_records(received_at=received_now()))
    assert "request_review" not in offered((await spec.get(f"/requests/{rid}")).text)
    r = await _act(
        spec, rid, "deny", basis="endangerment", explanation="Judged.", professional="Dr. Rivera"
    )
    assert r.status_code == 303, r.text
    await _wait_status(web_worker, rid, "denied")
    shown = offered((await spec.get(f"/requests/{rid}")).text)
    assert "request_review" in shown and not shown & {"assign_reviewer", "decide_review"}
    assert (await _act(spec, rid, "request_review", note="Letter received.")).status_code == 303
    await _wait_status(web_worker, rid, "denial_review")
    shown = offered((await spec.get(f"/requests/{rid}")).text)
    assert "assign_reviewer" in shown
    assert not shown & {"complete", "deny", "request_review", "decide_review"}
    r = await _act(spec, rid, "assign_reviewer", reviewer="Dr. Rivera", licensed_professional="on")
    assert r.status_code == 422 and "must not have taken part" in r.text
    r = await _act(spec, rid, "assign_reviewer", reviewer="Dr. Chen", licensed_professional="on")
    assert r.status_code == 303, r.text
    assert "decide_review" in offered((await spec.get(f"/requests/{rid}")).text)
    r = await _act(spec, rid, "decide_review", decision="uphold", explanation="Agreed.")
    assert r.status_code == 303, r.text
    await _wait_status(web_worker, rid, "denied")
