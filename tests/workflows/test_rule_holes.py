"""Issue 15's rule holes: each test failed before its fix and passes after."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from temporalio.testing import WorkflowEnvironment

from activities.channels.dispatch import Channels
from domain import actions
from domain.accounting_suspension import SuspensionRequest, suspension_issues
from domain.authorization import AuthorityDocument, Authorization, validate_authorization
from domain.effects import Delivery, RegistryUpdate
from domain.fees import DEFAULT_FEE_SCHEDULE, quote_fee
from domain.notices import NoticeKind
from domain.patients import patient_key
from domain.release_safety import DocumentFacts, OutgoingFacts, decide_release
from domain.request import RecordRequestSubmission
from domain.types import DeliveryMethod, RequestKind, Site, Status
from letters import render_notice
from letters.samples import sample_notice
from services.accounting_suspensions import SuspensionRefused, record_suspension
from services.disclosures import StaffDisclosure, record_staff_disclosure
from store import cases
from store.db import session_scope
from store.models import AccountingSuspension
from tests import factories
from tests.harness import Harness, skip_time
from workflows.accounting import AccountingWorkflow
from workflows.record_request import RecordRequestWorkflow as W

STAFF = "spec.holes"
OTHER = "spec.second"


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


async def now(env: WorkflowEnvironment) -> datetime:
    return await env.get_current_time()


def verify(**extra: Any) -> actions.VerifyIdentity:
    return actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PHOTO_ID, **extra)


# ---- 1. a representative's authority (164.502(g)) -------------------------------------------


def _agent_authorization(*documents: str, role: str = "health_care_agent") -> dict[str, Any]:
    return factories.valid_authorization(
        signer_role=role,
        representative_authority="Health care agent under the patient's health care directive",
        authority_documents=list(documents),
    )


#: Who signed for the patient, with where their letters go (intake needs it: issue 15, E).
REPRESENTATIVE: dict[str, Any] = {
    "first_name": "Jordan",
    "last_name": "Agentson",
    "contact": {"email": "jordan.agent@example.org"},
}


@pytest.mark.parametrize(
    "documents, code",
    [
        (["Financial power of attorney"], "financial_poa_not_representative"),
        (["Durable power of attorney"], "financial_poa_not_representative"),
        (["A signed letter from the daughter"], "authority_document_not_accepted"),
        (["Letters testamentary"], "authority_document_not_accepted"),  # wrong relationship
    ],
)
def test_intake_judges_the_authority_document_not_just_that_one_exists(
    documents: list[str], code: str
) -> None:
    auth = Authorization.model_validate(_agent_authorization(*documents))
    assert [p.code for p in validate_authorization(auth, date(2026, 11, 2))] == [code]


def test_accepted_authority_documents_pass_intake() -> None:
    for role, document in [
        ("health_care_agent", "Health care power of attorney"),
        ("legal_guardian", "Letters of guardianship"),
        ("parent_of_minor", "Birth certificate"),
        ("executor", "Letters testamentary"),
        ("administrator", "letters_of_administration"),
    ]:
        auth = Authorization.model_validate(_agent_authorization(document, role=role))
        assert validate_authorization(auth, date(2026, 11, 2)) == [], role


async def test_financial_poa_is_deficient_and_parent_of_adult_too(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    at = (await now(registered_env)).isoformat()
    handle = await h.start(
        factories.third_party(
            received_at=at,
            authorization=_agent_authorization("Financial power of attorney"),
            representative=REPRESENTATIVE,
        )
    )
    state = await h.wait_status(handle, Status.DEFICIENT)
    assert [d.code for d in state.deficiencies] == ["financial_poa_not_representative"]
    assert "deficiency" in [o.kind for o in h.outbound(state.request_id)]

    adult = factories.third_party(
        received_at=at,
        authorization=_agent_authorization("Birth certificate", role="parent_of_minor"),
        representative=REPRESENTATIVE,
    )
    handle = await h.start(adult)  # the factory's patient was born in 1984
    state = await h.wait_status(handle, Status.DEFICIENT)
    assert [d.code for d in state.deficiencies] == ["patient_not_a_minor"]


async def test_representative_signed_release_needs_the_document_type_confirmed(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.third_party(
            received_at=(await now(registered_env)).isoformat(),
            authorization=_agent_authorization("Health care power of attorney"),
            representative=REPRESENTATIVE,
        )
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)

    issues = await h.refused(handle, W.verify, verify(authority_confirmed=True))
    assert [i["code"] for i in issues] == ["authority_document_required"]
    financial = AuthorityDocument.FINANCIAL_POWER_OF_ATTORNEY
    issues = await h.refused(handle, W.verify, verify(authority_document=financial))
    assert [i["code"] for i in issues] == ["financial_poa_not_representative"]
    guardian = AuthorityDocument.LETTERS_OF_GUARDIANSHIP  # a real document, wrong relationship
    issues = await h.refused(handle, W.verify, verify(authority_document=guardian))
    assert [i["code"] for i in issues] == ["authority_document_not_accepted"]

    poa = AuthorityDocument.HEALTH_CARE_POWER_OF_ATTORNEY
    await handle.execute_update(W.verify, verify(authority_confirmed=True, authority_document=poa))
    state = await h.pay_quote(handle)
    assert state.authority_document == poa and state.authority_role == "health_care_agent"
    confirmed = [e for e in h.events(state.request_id) if e.action == "identity.verified"]
    assert confirmed[0].detail["authority_document"] == "health_care_power_of_attorney"
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    assert (await handle.result()).status == "completed"


async def test_a_corrected_authorization_by_a_representative_needs_its_authority_confirmed(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.third_party(received_at=(await now(registered_env)).isoformat())
    )
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.verify, verify())
    await h.pay_quote(handle)
    # a new form, now signed by the patient's guardian: verified, but authority unconfirmed
    await handle.execute_update(
        W.correct_authorization,
        actions.CorrectAuthorization(
            actor=STAFF,
            authorization=Authorization.model_validate(
                _agent_authorization("Letters of guardianship", role="legal_guardian")
            ),
        ),
    )
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    issues = await h.refused(handle, W.complete, actions.Complete(actor=STAFF))
    assert [i["code"] for i in issues] == ["authority_not_confirmed"]
    financial = AuthorityDocument.FINANCIAL_POWER_OF_ATTORNEY
    issues = await h.refused(
        handle,
        W.confirm_authority,
        actions.ConfirmAuthority(actor=STAFF, authority_document=financial),
    )
    assert [i["code"] for i in issues] == ["financial_poa_not_representative"]
    await handle.execute_update(
        W.confirm_authority,
        actions.ConfirmAuthority(
            actor=STAFF, authority_document=AuthorityDocument.LETTERS_OF_GUARDIANSHIP
        ),
    )
    await h.wait_status(handle, Status.READY_TO_RELEASE)


# ---- 3. the release is judged again at its moment, on workflow time --------------------------


async def test_authorization_that_expires_before_release_is_refused_on_workflow_time(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    start = await now(registered_env)
    expires = (start + timedelta(days=5)).date().isoformat()
    handle = await h.start(
        factories.third_party(
            received_at=start.isoformat(),
            authorization=factories.valid_authorization(expiration_date=expires),
        )
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.verify, verify())
    await h.pay_quote(handle)
    await skip_time(registered_env, timedelta(days=10))  # workflow time; the wall clock stays
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    state = await h.wait_status(handle, Status.DEFICIENT)
    assert [d.code for d in state.deficiencies] == ["expired"]
    kinds = [o.kind for o in h.outbound(state.request_id)]
    assert not any(k.startswith("records_") for k in kinds) and kinds[-1] == "deficiency"
    assert h.disclosures(state.request_id) == []
    assert "release.refused_at_release" in [e.action for e in h.events(state.request_id)]
    # a new, valid form: the release goes ahead
    await handle.execute_update(
        W.correct_authorization,
        actions.CorrectAuthorization(
            actor=STAFF,
            authorization=Authorization.model_validate(factories.valid_authorization()),
        ),
    )
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    assert (await handle.result()).status == "completed"


async def test_death_recorded_after_intake_stops_a_release_to_the_patient(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    start = await now(registered_env)
    handle = await h.start(factories.own_records(received_at=start.isoformat()))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(W.verify, verify())
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    sub = state.submission
    key = patient_key(sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth)
    with session_scope(h.database_url) as session:  # Data Integrity confirms the death
        cases.update_registry(
            session,
            RegistryUpdate(
                key="holes-death",
                request_id="REQ-HOLES-DEATH",
                patient_key=key,
                deceased_on=start.date(),
                at=start,
            ),
        )
    try:
        await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
        state = await h.wait_status(handle, Status.DEFICIENT)
        assert [d.code for d in state.deficiencies] == ["personal_representative_required"]
        assert h.disclosures(state.request_id) == []
        assert not any(o.kind.startswith("records_") for o in h.outbound(state.request_id))
    finally:
        with session_scope(h.database_url) as session:
            session.execute(text("DELETE FROM patient_registry WHERE patient_key = :k"), {"k": key})
        await handle.execute_update(W.cancel, actions.Cancel(actor=STAFF, reason="test over"))


def test_channels_judge_on_the_release_date_they_are_given() -> None:
    sub = RecordRequestSubmission.model_validate(
        factories.third_party(
            authorization=factories.valid_authorization(expiration_date="2026-11-10")
        )
    )
    delivery = Delivery(
        key="k",
        request_id="r",
        tracking_number="t",
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        description="d",
        submission=sub,
        release_on=date(2026, 11, 20),
    )
    channels = object.__new__(Channels)
    assert channels.today(delivery) == date(2026, 11, 20)  # not the wall clock
    batch_time = datetime(2026, 11, 9, 20, 0, tzinfo=UTC)  # the batch's workflow time
    assert channels.today(delivery, batch_time) == date(2026, 11, 9)
    contact = sub.delivery_contact()
    out = OutgoingFacts(
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        address_lines=contact.address.lines() if contact.address else [],
    )
    doc = DocumentFacts(
        document_id="d1",
        patient_first_name="Avery",
        patient_last_name="Testpatient",
        patient_date_of_birth=date(1984, 3, 9),
        record_type="visit_notes",
        service_date=date(2025, 1, 5),
    )
    assert decide_release(sub, [doc], out, date(2026, 11, 9)).may_release
    late = decide_release(sub, [doc], out, date(2026, 11, 20))
    assert [i.code for i in late.blocking] == ["authorization_expired"]
    died = decide_release(sub, [doc], out, date(2026, 11, 9), deceased_on=date(2026, 11, 1))
    assert [i.code for i in died.blocking] == ["estate_signature_required"]


# ---- 9. third-party fees: schedule per site and requester, pages from the records found -------


def test_a_law_firms_300_paper_pages_are_not_free() -> None:
    paper = quote_fee(
        site=Site.MINNESOTA,
        delivery=DeliveryMethod.US_MAIL,
        under_right_of_access=False,
        pages=300,
        schedule=DEFAULT_FEE_SCHEDULE,
        requester="attorney",
        kind=RequestKind.THIRD_PARTY,
    )
    assert {line.code: line.amount_cents for line in paper.lines} == {
        "third_party_search": 1000,
        "third_party_pages": 300 * 100,
    }
    electronic = quote_fee(
        site=Site.MINNESOTA,
        delivery=DeliveryMethod.EMAIL_LINK,
        under_right_of_access=False,
        pages=300,
        schedule=DEFAULT_FEE_SCHEDULE,
        requester="attorney",
        kind=RequestKind.THIRD_PARTY,
    )
    assert electronic.total_cents == 650  # the flat option for an electronic copy
    for free in (
        dict(under_right_of_access=True, kind=RequestKind.ACCESS_OWN),
        dict(under_right_of_access=False, kind=RequestKind.CONTINUITY_OF_CARE),
    ):
        quote = quote_fee(
            site=Site.MINNESOTA,
            delivery=DeliveryMethod.US_MAIL,
            pages=300,
            schedule=DEFAULT_FEE_SCHEDULE,
            requester="provider",
            **free,  # type: ignore[arg-type]
        )
        assert quote.total_cents == 0


def test_the_quote_letter_itemizes_the_schedule_for_the_requester_type() -> None:
    quote = quote_fee(
        site=Site.MINNESOTA,
        delivery=DeliveryMethod.US_MAIL,
        under_right_of_access=False,
        pages=300,
        schedule=DEFAULT_FEE_SCHEDULE,
        requester="attorney",
        kind=RequestKind.THIRD_PARTY,
    )
    assert quote.requester_type == "attorney"
    [pages] = [line for line in quote.lines if line.code == "third_party_pages"]
    assert (pages.quantity, pages.unit_cents) == (300, 100)
    notice = sample_notice(NoticeKind.FEE_QUOTE).model_copy(
        update={
            "fee_lines": quote.lines,
            "fee_total_cents": quote.total_cents,
            "fee_requester_type": quote.requester_type,
            "delivery_method": DeliveryMethod.US_MAIL,
        }
    )
    text = " ".join(pypdf_text(render_notice(notice)).split())
    assert "Copies (300 pages × $1.00 a page) $300.00" in text
    assert "Search and retrieval of the records $10.00" in text
    assert "Total $310.00" in text
    assert "an attorney or law firm" in text  # the requester type the schedule priced
    assert "We never charge for searching" not in text  # true only under the right of access
    electronic = quote_fee(
        site=Site.MINNESOTA,
        delivery=DeliveryMethod.EMAIL_LINK,
        under_right_of_access=False,
        pages=300,
        schedule=DEFAULT_FEE_SCHEDULE,
        requester="insurer",
        kind=RequestKind.THIRD_PARTY,
    )
    notice = notice.model_copy(
        update={
            "fee_lines": electronic.lines,
            "fee_total_cents": electronic.total_cents,
            "fee_requester_type": electronic.requester_type,
        }
    )
    text = " ".join(pypdf_text(render_notice(notice)).split())
    assert "Electronic copy (flat fee) $6.50" in text and "an insurance company" in text
    assert "pages ×" not in text  # the flat option replaces the per-page copying


def pypdf_text(pdf: bytes) -> str:
    import io

    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


async def test_third_party_quote_counts_pages_found_and_release_waits_for_payment(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    handle = await h.start(
        factories.third_party(received_at=(await now(registered_env)).isoformat())
    )
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    pages = [e.detail["pages"] for e in h.events(state.request_id) if e.action == "fee.quoted"]
    assert pages and pages[0] > 0  # counted from the records the source holds
    assert state.fee.total_cents == 1000 + 100 * pages[0]
    assert state.fee.requester_type == "attorney"  # the schedule's row for a law firm
    kinds = [o.kind for o in h.outbound(state.request_id)]
    assert kinds.index("fee_quote") < len(kinds)  # the quote went out before any work
    await handle.execute_update(W.verify, verify())
    await h.wait_status(handle, Status.AWAITING_PAYMENT)
    issues = await h.refused(handle, W.complete, actions.Complete(actor=STAFF))
    assert [i["code"] for i in issues] == ["fee_unpaid"]
    await handle.execute_update(
        W.record_payment,
        actions.RecordPayment(
            actor=STAFF, amount_cents=state.fee.total_cents, reference="CHK-1001"
        ),
    )
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
    assert (await handle.result()).status == "completed"


# ---- 7. accounting suspensions (164.528(a)(2)) ----------------------------------------------

BOARD = "State Board of Medical Practice"
POLICE = "City Police Department"


def _disclose(h: Harness, first: str, when: datetime, category: str, recipient: str) -> None:
    record_staff_disclosure(
        h.database_url,
        StaffDisclosure(
            patient_first_name=first,
            patient_last_name="Testpatient",
            patient_date_of_birth=date(1984, 3, 9),
            disclosed_at=when,
            recipient_name=recipient,
            description="Records",
            purpose=category,
            category=category,  # type: ignore[arg-type]
        ),
        actor=STAFF,
    )


def _suspension(first: str, today: date, **overrides: Any) -> SuspensionRequest:
    data: dict[str, Any] = {
        "patient_first_name": first,
        "patient_last_name": "Testpatient",
        "patient_date_of_birth": "1984-03-09",
        "agency_type": "health_oversight",
        "agency_name": BOARD,
        "form": "written",
        "received_on": today.isoformat(),
        "ends_on": (today + timedelta(days=90)).isoformat(),
        "statement": "An accounting would impede the board's investigation.",
    }
    data.update(overrides)
    return SuspensionRequest.model_validate(data)


async def _accounting(h: Harness, first: str, at: datetime) -> tuple[Any, Any]:
    data = factories.accounting(received_at=at.isoformat())
    data["patient"] = {**data["patient"], "first_name": first}
    data["requester"] = {**data["requester"], "first_name": first}
    handle = await h.start_case(data)
    return handle, await h.wait_case(handle, Status.UNDER_REVIEW)


async def test_a_written_suspension_leaves_the_agencys_disclosures_out_until_its_end_date(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    at = await now(registered_env)
    first = f"Susp{at.timestamp():.0f}"
    _disclose(h, first, at - timedelta(days=200), "health_oversight", BOARD)
    _disclose(h, first, at - timedelta(days=100), "court_order", "County District Court")
    today = at.date()
    # a written request: any end date the agency states, here 90 days (more than an oral 30)
    key = record_suspension(h.database_url, _suspension(first, today), STAFF, today=today)
    with session_scope(h.database_url) as session:
        [row] = [
            r
            for r in session.execute(select(AccountingSuspension)).scalars()
            if r.suspension_key == key
        ]
        assert (row.form, row.ends_on) == ("written", today + timedelta(days=90))
    changed = text("UPDATE accounting_suspensions SET ends_on = CURRENT_DATE")
    with (
        pytest.raises(Exception, match=r"append-only|permission denied"),
        session_scope(h.database_url) as s,
    ):
        s.execute(changed)  # recorded once, never changed
    handle, _ = await _accounting(h, first, at)
    result = await handle.execute_update(AccountingWorkflow.complete, actions.Complete(actor=STAFF))
    assert "1 entries" in result.message  # the court's; the board's is suspended
    assert (await handle.result()).outcome.entries == 1


def test_an_oral_suspension_lasts_30_days_at_most_and_names_the_official() -> None:
    today = date(2026, 11, 2)
    oral = _suspension(
        "Oral",
        today,
        form="oral",
        agency_type="law_enforcement",
        agency_name=POLICE,
        ends_on=(today + timedelta(days=31)).isoformat(),
    )
    codes = {(p.field, p.code) for p in suspension_issues(oral, today)}
    assert codes == {
        ("ends_on", "oral_over_30_days"),
        ("official_name", "official_identity_required"),
        ("official_identity", "official_identity_required"),
    }
    documented = oral.model_copy(
        update={
            "ends_on": today + timedelta(days=30),
            "official_name": "Det. Sam Example",
            "official_identity": "Badge 4411, City Police Department",
        }
    )
    assert suspension_issues(documented, today) == []
    with pytest.raises(SuspensionRefused) as refused:
        record_suspension("postgresql://unused", oral, STAFF, today=today)
    assert "oral_over_30_days" in [i.code for i in refused.value.issues]


async def test_suspended_disclosures_are_in_the_accounting_once_the_suspension_ends(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    at = await now(registered_env)
    first = f"Ends{at.timestamp():.0f}"
    _disclose(h, first, at - timedelta(days=20), "law_enforcement", POLICE)
    today = at.date()
    oral = _suspension(
        first,
        today,
        form="oral",
        agency_type="law_enforcement",
        agency_name="city police department",  # however staff typed the agency's name
        ends_on=(today + timedelta(days=30)).isoformat(),
        official_name="Det. Sam Example",
        official_identity="Badge 4411",
    )
    record_suspension(h.database_url, oral, STAFF, today=today)
    handle, _ = await _accounting(h, first, at)
    await h.skip(timedelta(days=32))  # workflow time: the 30 days are over
    result = await handle.execute_update(AccountingWorkflow.complete, actions.Complete(actor=STAFF))
    assert "1 entries" in result.message  # the police disclosure is back in
    assert (await handle.result()).outcome.entries == 1
