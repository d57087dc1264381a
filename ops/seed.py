"""Demo data: the table of ops/demo_cases.py turned into intake submissions and staff actions.

Idempotent: each request has a fixed idempotency key, and staff actions are applied only when
the request is still at the stage the action belongs to, so running the demo twice adds nothing.

The record source holds only what was written to it, so the seed first writes a synthetic
record folder for every demo patient (fakes/records.py: demo and tests only, never imported by
the engine); a request for a patient the source does not hold would be held for staff.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, assert_never

import structlog
from temporalio.client import Client

from domain import actions
from domain.kinds.case import CaseState
from domain.state import RequestState
from domain.types import RECORD_COPY_KINDS, RequestKind, Status
from ops.demo_cases import CASES, Case, Day, Relative, Step
from services import intake, staff
from store import repository
from store.db import session_scope
from workflows.cases import AmendmentWorkflow, ProxyAccessWorkflow

log = structlog.get_logger(__name__)

SPECIALIST = "spec.demo"
AMENDMENT_SPECIALIST = "amend.demo"

#: The stage each step belongs to: a request elsewhere (seeded before, or moved on) is left be.
STAGE_OF_STEP: dict[Step, Status] = {
    "verify": Status.AWAITING_VERIFICATION,
    "pay": Status.AWAITING_PAYMENT,
    "complete": Status.READY_TO_RELEASE,
    "extend": Status.AWAITING_VERIFICATION,
    "deny": Status.AWAITING_VERIFICATION,
    "cancel": Status.AWAITING_VERIFICATION,
    "deny-amendment": Status.UNDER_REVIEW,
    "approve-proxy": Status.UNDER_REVIEW,
}

_ADDRESSES = {
    "minnesota": ("200 Example Ave NW", "Rochester", "MN", "55901"),
    "arizona": ("13400 E Example Blvd", "Scottsdale", "AZ", "85259"),
    "florida": ("4500 Example Rd", "Jacksonville", "FL", "32224"),
    "wisconsin": ("700 Example St", "La Crosse", "WI", "54601"),
}
_INSURER: dict[str, Any] = {
    "organization": "Northfield Insurance Co.",
    "relationship": "insurer",
    "contact": {
        "email": "records@northfield.example",
        "address": {
            "line1": "1 Insurance Plaza",
            "city": "Minneapolis",
            "state": "MN",
            "postal_code": "55402",
        },
    },
}


@dataclass(frozen=True)
class DemoRequest:
    """A row of the table made concrete for one clock: the intake body under its key."""

    key: str
    case: Case
    data: dict[str, Any]


def demo_requests(now: datetime) -> list[DemoRequest]:
    """Every demo request, as intake receives it when the seed's clock reads `now`."""
    return [
        DemoRequest(f"demo-{n:02d}-{case.name}", case, submission(case, n, now))
        for n, case in enumerate(CASES, start=1)
    ]


def submission(case: Case, n: int, now: datetime) -> dict[str, Any]:
    """The intake body of row `n`: its people made from the row's place, then its own fields."""
    data: dict[str, Any] = {
        "kind": case.kind,
        "site": case.site,
        "channel": case.channel,
        "received_at": (now - timedelta(days=case.received)).isoformat(),
    }
    if case.patient is not None:
        first, last = case.patient.rsplit(" ", 1)
        data["language"] = case.language
        data["patient"] = {
            "first_name": first,
            "last_name": last,
            "date_of_birth": case.born or date(1950 + n, 1 + n % 12, 1 + n % 27).isoformat(),
            "mrn": f"DEMO{n:06d}",
        }
        data["requester"] = _requester(case, n, first, last)
    if case.kind in RECORD_COPY_KINDS:
        data["records"] = (
            {"description": "CT chest and MRI brain images", "record_types": ["imaging"]}
            if case.kind == RequestKind.IMAGING
            else {
                "description": "Visit notes, lab results and discharge summaries",
                "date_from": "2023-01-01",
                "date_to": "2025-12-31",
            }
        )
        data["delivery_method"] = case.delivery
    if case.kind == RequestKind.THIRD_PARTY:
        data["authorization"] = _authorization(now, case.authorization)
    data.update(_resolve_days(dict(case.fields), now))
    return data


def _requester(case: Case, n: int, first: str, last: str) -> dict[str, Any]:
    """The patient themself, the demo insurer, or a relative (the patient's last name)."""
    if case.requester == "insurer":
        return copy.deepcopy(_INSURER)
    relationship = "self"
    if isinstance(case.requester, Relative):
        first, relationship = case.requester.first_name, case.requester.relationship
    line1, city, state, zip_code = _ADDRESSES[case.site]
    return {
        "first_name": first,
        "last_name": last,
        "relationship": relationship,
        "contact": {
            "email": f"{first.lower()}.{last.lower()}@example.org",
            "phone": f"555-01{n:02d}",
            "address": {
                "line1": f"{100 + n} {line1}",
                "city": city,
                "state": state,
                "postal_code": zip_code,
            },
        },
    }


def _authorization(now: datetime, changes: Any) -> dict[str, Any]:
    """A 164.508 form with every element, valid two years from the seed's clock (a demo run
    later than a fixed date would find every form expired), with the row's defects."""
    return {
        "information_description": "Office visit notes and imaging reports, 2023-2025",
        "disclosing_party": "Mayo Clinic",
        "recipient": "Northfield Insurance Co.",
        "purpose": "Life insurance application",
        "expiration_date": (now + timedelta(days=730)).date().isoformat(),
        "signed": True,
        "signature_date": "2026-09-15",
        "statement_right_to_revoke": True,
        "statement_conditioning": True,
        "statement_redisclosure": True,
        **changes,
    }


def _resolve_days(value: Any, now: datetime) -> Any:
    """The row's fields with each Day replaced by its ISO date on the seed's clock."""
    if isinstance(value, Day):
        return (now + timedelta(days=value.offset)).date().isoformat()
    if isinstance(value, dict):
        return {k: _resolve_days(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_days(v, now) for v in value]
    return value


def staff_action(
    step: Step, state: RequestState | CaseState, received: date
) -> tuple[Any, staff.UpdateMethod | None]:
    """The staff action a step stands for on this request, and the case workflow's Update
    that takes it (None: the records workflow's for the action's type)."""
    match step:
        case "verify":
            return actions.VerifyIdentity(
                actor=SPECIALIST, method=actions.IdentityMethod.PHOTO_ID
            ), None
        case "pay":  # as staff do when the requester's check for the quote arrives
            fee = state.fee_due_cents if isinstance(state, RequestState) else 0
            return actions.RecordPayment(
                actor=SPECIALIST, amount_cents=fee, reference="CHECK-DEMO"
            ), None
        case "complete":
            return actions.Complete(actor=SPECIALIST), None
        case "extend":
            return actions.Extend(
                actor=SPECIALIST,
                reason="Older records are being retrieved from off-site storage",
                new_due_date=received + timedelta(days=55),
            ), None
        case "deny":
            return actions.Deny(
                actor=SPECIALIST,
                basis="psychotherapy_notes",
                explanation="The request named only psychotherapy notes.",
            ), None
        case "cancel":
            return actions.Cancel(
                actor=SPECIALIST, reason="The patient downloaded the records from the portal."
            ), None
        case "deny-amendment":
            return actions.DenyAmendment(
                actor=AMENDMENT_SPECIALIST,
                basis="accurate_and_complete",
                explanation="Reviewed with the treating physician.",
            ), AmendmentWorkflow.deny
        case "approve-proxy":
            return actions.ProxyDecision(
                actor=SPECIALIST, approve=True, documents_verified=True
            ), ProxyAccessWorkflow.decide
        case _:
            assert_never(step)


def write_demo_records(records: Path, now: datetime) -> int:
    """A synthetic record folder for every demo patient, in the folder record source (kept as
    it is when written before); returns how many patients there are."""
    from fakes.records import synthetic_patient  # the demo's, not the engine's

    patients = {
        (p["first_name"], p["last_name"], p["date_of_birth"]): p
        for p in (request.data.get("patient") for request in demo_requests(now))
        if p and p.get("date_of_birth")
    }
    for patient in patients.values():
        synthetic_patient(records, patient)
    return len(patients)


async def seed(
    database_url: str,
    client: Client,
    task_queue: str,
    now: datetime | None = None,
    *,
    records: Path | None = None,
) -> dict[str, int]:
    """Write the demo patients' records into `records` (the folder record source; None: the
    source is not a folder), then submit the demo requests and apply their staff actions;
    safe to run again."""
    now = now or datetime.now(UTC)
    counts = {"submitted": 0, "already_there": 0, "actions": 0}
    if records is not None:
        counts["patients"] = write_demo_records(records, now)
    for request in demo_requests(now):
        # a request seeded on an earlier run is sent again as it was stored: its receipt time
        # came from that run's clock, and another body under the same key would be refused
        body = _stored_body(database_url, request.key) or request.data
        result = await intake.submit(
            body,
            database_url=database_url,
            client=client,
            task_queue=task_queue,
            source="demo",
            idempotency_key=request.key,
            now=now,
        )
        if result.redirected:
            counts["redirected"] = counts.get("redirected", 0) + 1
            continue
        if not result.accepted or not result.request_id:
            log.warning("seed.rejected", key=request.key, codes=[e.code for e in result.errors])
            continue
        counts["already_there" if result.duplicate else "submitted"] += 1
        received = datetime.fromisoformat(body["received_at"]).date()
        for step in request.case.steps:
            state = await _wait_for_triage(client, result.request_id)
            if state is None or state.status != STAGE_OF_STEP[step]:
                continue
            if step == "extend" and state.clock.extended:
                continue
            action, update = staff_action(step, state, received)
            try:
                await staff.perform(client, result.request_id, action, update=update)
                counts["actions"] += 1
            except staff.ActionRefused as refused:
                log.warning("seed.action_refused", key=request.key, reason=refused.message)
    return counts


def _stored_body(database_url: str, key: str) -> dict[str, Any] | None:
    """The body stored under a demo key by an earlier run, if any."""
    with session_scope(database_url) as session:
        stored = repository.find_submission_by_key(session, key)
        payload = stored.payload if stored is not None else None
    return payload if isinstance(payload, dict) else None


async def _wait_for_triage(client: Client, request_id: str) -> RequestState | CaseState | None:
    """The workflow's state once it has left RECEIVED (it needs a running worker)."""
    for _ in range(200):
        state = await staff.any_state(client, request_id)
        if state.status != Status.RECEIVED:
            return state
        await asyncio.sleep(0.05)
    return None
