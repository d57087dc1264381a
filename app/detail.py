"""Everything the request page shows, assembled from the workflow's own state and the read model.

The workflow (queried live) is the source of truth; when it cannot be reached the page falls
back to the read model and the stored submission, and says so.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from temporalio.client import Client

from domain.authorization import Authorization, SignerRole, validate_authorization
from domain.calendar import (
    business_day_on_or_before,
    business_days_between,
    due_on_holiday,
    local_date,
    local_datetime,
)
from domain.errors import FieldIssue
from domain.ids import workflow_id_for
from domain.kinds.case import CaseState
from domain.release_basis import release_basis_issues
from domain.request import RecordRequestSubmission
from domain.sites import site_profile
from domain.standing import ClockReading, Standing, read_clock
from domain.state import RequestState
from domain.types import RECORD_COPY_KINDS, RequestKind, Site
from store.models import OutboundItem, RecordRequest

log = structlog.get_logger(__name__)


@dataclass
class ChecklistItem:
    label: str
    field: str  # the Authorization field a corrected form would fix
    state: str  # ok, missing, defect, not_applicable
    messages: list[str] = field(default_factory=list)  # type: ignore[operator]  # dataclasses.field


#: The 164.508(c) elements and (b)(2) defects, in the order of the form, with the issue codes
#: domain.authorization reports for each.
CHECKLIST: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "Specific description of the information",
        "information_description",
        frozenset({"description_missing"}),
    ),
    ("Who may disclose it", "disclosing_party", frozenset({"discloser_missing"})),
    ("Who receives it", "recipient", frozenset({"recipient_missing"})),
    ("Purpose", "purpose", frozenset({"purpose_missing"})),
    (
        "Expiration date or event (not passed)",
        "expiration_date",
        frozenset({"expiration_missing", "expired", "expiration_event_occurred"}),
    ),
    ("Signed", "signed", frozenset({"signature_missing"})),
    (
        "Signature dated",
        "signature_date",
        frozenset({"signature_date_missing", "signature_date_in_future"}),
    ),
    (
        "Representative's authority described",
        "representative_authority",
        frozenset({"authority_description_missing"}),
    ),
    (
        "Representative's legal documents",
        "authority_documents",
        frozenset({"authority_documents_missing"}),
    ),
    (
        "Statement: right to revoke in writing",
        "statement_right_to_revoke",
        frozenset({"statement_revocation_missing"}),
    ),
    (
        "Statement: treatment/payment conditioning",
        "statement_conditioning",
        frozenset({"statement_conditioning_missing"}),
    ),
    (
        "Statement: recipient may re-disclose",
        "statement_redisclosure",
        frozenset({"statement_redisclosure_missing"}),
    ),
    ("Not revoked", "known_revoked", frozenset({"revoked"})),
    ("No known false information", "known_false_information", frozenset({"false_information"})),
    (
        "Not an improper compound authorization",
        "combined_with",
        frozenset({"compound_psychotherapy", "compound_other_document"}),
    ),
)
_REPRESENTATIVE_ONLY = frozenset({"representative_authority", "authority_documents"})
_DEFECT_CODES = frozenset(
    {
        "expired",
        "expiration_event_occurred",
        "revoked",
        "false_information",
        "compound_psychotherapy",
        "compound_other_document",
        "signature_date_in_future",
    }
)


def authorization_checklist(auth: Authorization | None, as_of: date) -> list[ChecklistItem]:
    """Each 164.508 element with its state, from domain.authorization's own findings."""
    issues = validate_authorization(auth, as_of)
    if auth is None:
        return [
            ChecklistItem(label, fld, "missing", ["No authorization form is on file."])
            for label, fld, _ in CHECKLIST
        ]
    by_code: dict[str, list[FieldIssue]] = {}
    for found in issues:
        by_code.setdefault(found.code, []).append(found)
    items = []
    for label, fld, codes in CHECKLIST:
        if fld in _REPRESENTATIVE_ONLY and auth.signer_role == SignerRole.PATIENT:
            items.append(ChecklistItem(label, fld, "not_applicable", ["Signed by the patient."]))
            continue
        hits = [i for code in sorted(codes) for i in by_code.get(code, [])]
        if not hits:
            items.append(ChecklistItem(label, fld, "ok"))
        else:
            defect = any(i.code in _DEFECT_CODES for i in hits)
            items.append(
                ChecklistItem(
                    label, fld, "defect" if defect else "missing", [i.message for i in hits]
                )
            )
    return items


def legal_checklist(sub: RecordRequestSubmission, today: date) -> list[ChecklistItem] | None:
    """A court order's or subpoena's checks (164.512(e)), with the findings of
    domain.release_basis (the rule the workflow applies); None for any other kind."""
    if sub.kind not in (RequestKind.COURT_ORDER, RequestKind.SUBPOENA):
        return None
    findings = {i.field: i.message for i in release_basis_issues(sub, today)}
    doc = sub.legal_document
    if doc is None:
        message = findings.get("legal_document", "The subpoena or court order is missing.")
        return [ChecklistItem("The court's document", "legal_document", "missing", [message])]
    items = [
        ChecklistItem("Court", "legal_document.court", "ok" if doc.court else "missing"),
        ChecklistItem(
            "Case number", "legal_document.case_number", "ok" if doc.case_number else "missing"
        ),
        ChecklistItem("Date issued", "legal_document.issued_on", "ok", [doc.issued_on.isoformat()]),
    ]
    if sub.kind == RequestKind.COURT_ORDER:
        signed = "legal_document.signed_by_judge"
        items.insert(
            0,
            ChecklistItem(
                "Signed by a judge or magistrate",
                signed,
                "ok" if doc.signed_by_judge else "defect",
                [findings[signed]] if signed in findings else [],
            ),
        )
        return items
    # a subpoena: the patient's authorization, or one of the two written assurances
    assured = doc.assurance_patient_notified or doc.assurance_protective_order
    for label, fld, present in (
        (
            "Written assurance: the patient was notified and did not object in time "
            "(164.512(e)(1)(ii)(A))",
            "legal_document.assurance_patient_notified",
            doc.assurance_patient_notified,
        ),
        (
            "Written assurance: a qualified protective order was sought (164.512(e)(1)(ii)(B))",
            "legal_document.assurance_protective_order",
            doc.assurance_protective_order,
        ),
    ):
        if present:
            items.insert(0, ChecklistItem(label, fld, "ok"))
        elif sub.authorization is not None:
            note = "Not needed: the patient's authorization is on file (checked below)."
            items.insert(0, ChecklistItem(label, fld, "not_applicable", [note]))
        elif assured:
            items.insert(
                0, ChecklistItem(label, fld, "not_applicable", ["The other one is given."])
            )
        else:
            message = findings.get("legal_document", "Neither assurance was given.")
            items.insert(0, ChecklistItem(label, fld, "missing", [message]))
    items[:2] = reversed(items[:2])
    return items


@dataclass
class Clocks:
    zone_label: str
    received_local: datetime
    target_local: datetime | None
    target_business_days: int | None
    due_local: datetime
    due_date: date
    original_due_date: date
    legal_business_days: int
    extended: bool
    extension_reason: str | None
    breached: bool
    at_risk: bool
    legal_risk: bool
    reading: ClockReading  # open with days left, parked (clock met) or closed (in time or late)
    holiday_finish_by: date | None = None  # legal due date on a site holiday: finish by this


def clocks_for(row: RecordRequest, now: datetime) -> Clocks:
    """Both clocks in the site's local time, with business days left (negative: overdue);
    parked and closed requests have none (domain.standing)."""
    site = Site(row.site)
    today = local_date(site, now)
    target_local = local_datetime(site, row.target_due_at) if row.target_due_at else None
    reading = read_clock(
        site,
        row.status,
        due_date=row.due_date,
        due_at=row.due_at,
        target_due_date=target_local.date() if target_local else None,
        closed_at=row.closed_at,
        now=now,
        breached_flag=row.breached,
    )
    working = reading.standing == Standing.OPEN
    return Clocks(
        zone_label=f"{site_profile(site).time_zone_label} ({site_profile(site).time_zone})",
        received_local=local_datetime(site, row.received_at),
        target_local=target_local,
        target_business_days=(
            business_days_between(site, today, target_local.date()) if target_local else None
        ),
        due_local=local_datetime(site, row.due_at),
        due_date=row.due_date,
        original_due_date=row.original_due_date,
        legal_business_days=business_days_between(site, today, row.due_date),
        extended=row.extended,
        extension_reason=(row.summary or {}).get("extension_reason"),
        breached=reading.breached,
        at_risk=row.at_risk or bool(working and row.target_due_at and row.target_due_at < now),
        legal_risk=row.legal_risk and working,
        reading=reading,
        holiday_finish_by=(
            business_day_on_or_before(site, row.due_date)
            if working and due_on_holiday(site, row.due_date)
            else None
        ),
    )


@dataclass
class LiveState:
    """What the workflow reports (None fields: not available)."""

    record: RequestState | None = None
    case: CaseState | None = None
    error: str | None = None


async def live_state(client: Client | None, row: RecordRequest) -> LiveState:
    """Query the request's workflow (a few seconds at most)."""
    if client is None:
        return LiveState(error="The workflow service is not reachable right now.")
    handle = client.get_workflow_handle(workflow_id_for(row.id))
    try:
        if RequestKind(row.kind) in RECORD_COPY_KINDS:
            state = await handle.query(
                "status", result_type=RequestState, rpc_timeout=timedelta(seconds=5)
            )
            return LiveState(record=state)
        case_state = await handle.query(
            "status", result_type=CaseState, rpc_timeout=timedelta(seconds=5)
        )
        return LiveState(case=case_state)
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as error:
        log.warning("request.live_state_unavailable", request_id=row.id, error=type(error).__name__)
        return LiveState(
            error="The workflow's live state is not available; showing the last recorded state."
        )


def record_submission(
    live: LiveState, stored: dict[str, Any] | None
) -> RecordRequestSubmission | None:
    if live.record is not None:
        return live.record.submission
    if stored:
        try:
            return RecordRequestSubmission.model_validate(stored)
        except ValidationError:
            return None
    return None


def document_path(item: OutboundItem, outbox_root: Path) -> Path | None:
    """The item's file, only when it lies inside the outbox (never an arbitrary path)."""
    if not item.path:
        return None
    path = Path(item.path).resolve()
    root = outbox_root.resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path
