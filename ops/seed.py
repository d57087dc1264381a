"""Demo data: synthetic requests (no real person) at every stage, across the four sites.

Idempotent: each request has a fixed idempotency key, and staff actions are applied only when
the request is still at the stage the action belongs to, so running the demo twice adds nothing.

The record source holds only what was written to it, so the seed first writes a synthetic
record folder for every demo patient (fakes/records.py: demo and tests only, never imported by
the engine); a request for a patient the source does not hold would be held for staff.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from temporalio.client import Client

from domain import actions
from domain.kinds.case import CaseState
from domain.state import RequestState
from domain.types import Status
from services import intake, staff
from workflows.cases import AmendmentWorkflow, ProxyAccessWorkflow

log = structlog.get_logger(__name__)

SPECIALIST = "spec.demo"
#: A step that records payment of whatever the request was quoted (a third party's copies cost
#: what the site's schedule says for the pages the record source holds), as staff do when the
#: requester's check arrives.
PAY_QUOTE = "pay-the-quote"

_ADDRESSES = {
    "minnesota": ("200 Example Ave NW", "Rochester", "MN", "55901"),
    "arizona": ("13400 E Example Blvd", "Scottsdale", "AZ", "85259"),
    "florida": ("4500 Example Rd", "Jacksonville", "FL", "32224"),
    "wisconsin": ("700 Example St", "La Crosse", "WI", "54601"),
}


def _auth(**overrides: Any) -> dict[str, Any]:
    auth: dict[str, Any] = {
        "information_description": "Office visit notes and imaging reports, 2023-2025",
        "disclosing_party": "Mayo Clinic",
        "recipient": "Northfield Insurance Co.",
        "purpose": "Life insurance application",
        "expiration_date": "2027-06-30",
        "signed": True,
        "signature_date": "2026-09-15",
        "statement_right_to_revoke": True,
        "statement_conditioning": True,
        "statement_redisclosure": True,
    }
    auth.update(overrides)
    return auth


def _request(
    n: int,
    *,
    site: str,
    kind: str,
    days_ago: float,
    now: datetime,
    first: str,
    last: str,
    delivery: str = "email_link",
    language: str = "en",
    channel: str = "portal",
    third_party: bool = False,
    authorization: dict[str, Any] | None = None,
) -> dict[str, Any]:
    line1, city, state, zip_code = _ADDRESSES[site]
    person = {
        "first_name": first,
        "last_name": last,
        "relationship": "self",
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
    data: dict[str, Any] = {
        "kind": kind,
        "site": site,
        "channel": channel,
        "received_at": (now - timedelta(days=days_ago)).isoformat(),
        "language": language,
        "patient": {
            "first_name": first,
            "last_name": last,
            "date_of_birth": date(1950 + n, 1 + n % 12, 1 + n % 27).isoformat(),
            "mrn": f"DEMO{n:06d}",
        },
        "requester": person,
        "records": {
            "description": "Visit notes, lab results and discharge summaries",
            "date_from": "2023-01-01",
            "date_to": "2025-12-31",
        },
        "delivery_method": delivery,
    }
    if kind == "imaging":
        data["records"] = {
            "description": "CT chest and MRI brain images",
            "record_types": ["imaging"],
        }
    if third_party:
        data["requester"] = {
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
        # a valid form stays valid two years from the seed's clock (a demo or test run later
        # than the form's fixed date would otherwise find every law firm's form expired)
        valid = _auth(expiration_date=(now + timedelta(days=730)).date().isoformat())
        data["authorization"] = authorization if authorization is not None else valid
    return data


@dataclass
class DemoCase:
    """One seeded request and the staff actions that bring it to its demo stage."""

    key: str
    data: dict[str, Any]
    steps: list[tuple[Any, ...]] = field(default_factory=list)  # (stage, action[, update method])


def demo_cases(now: datetime) -> list[DemoCase]:
    """The demo set: every stage, every site, several languages and channels."""
    verify = actions.VerifyIdentity(actor=SPECIALIST, method=actions.IdentityMethod.PHOTO_ID)
    complete = actions.Complete(actor=SPECIALIST)
    pay = actions.RecordPayment(actor=SPECIALIST, amount_cents=4500, reference="CARD-DEMO")
    cases: list[DemoCase] = []

    def add(name: str, data: dict[str, Any], *steps: tuple[Status, Any]) -> None:
        cases.append(
            DemoCase(key=f"demo-{len(cases) + 1:02d}-{name}", data=data, steps=list(steps))
        )

    r = _request
    add(
        "fresh-mn",
        r(
            1,
            site="minnesota",
            kind="access_own",
            days_ago=0.2,
            now=now,
            first="Lena",
            last="Brightwater",
        ),
    )
    add(
        "fresh-az",
        r(
            2,
            site="arizona",
            kind="access_own",
            days_ago=1,
            now=now,
            first="Omar",
            last="Saltriver",
            language="ar",
            channel="email",
        ),
    )
    add(
        "fresh-fl",
        r(
            3,
            site="florida",
            kind="imaging",
            days_ago=2,
            now=now,
            first="Rosa",
            last="Palmetto",
            language="es",
            delivery="cd_mail",
            channel="mail",
        ),
    )
    add(
        "fresh-wi",
        r(
            4,
            site="wisconsin",
            kind="access_own",
            days_ago=3,
            now=now,
            first="Hodan",
            last="Lakeshore",
            language="so",
            delivery="us_mail",
            channel="fax",
        ),
    )
    add(
        "hmong",
        r(
            5,
            site="minnesota",
            kind="access_own",
            days_ago=4,
            now=now,
            first="Pa",
            last="Riverbend",
            language="hmn",
            channel="phone",
        ),
    )
    add(
        "deficient",
        r(
            6,
            site="minnesota",
            kind="third_party",
            days_ago=3,
            now=now,
            first="Grant",
            last="Oakhollow",
            delivery="us_mail",
            third_party=True,
            authorization=_auth(purpose=None, statement_redisclosure=False),
        ),
    )
    add(
        "deficient-expired",
        r(
            7,
            site="florida",
            kind="third_party",
            days_ago=8,
            now=now,
            first="Marisol",
            last="Coastway",
            delivery="us_mail",
            third_party=True,
            authorization=_auth(expiration_date="2025-01-31"),
        ),
    )
    add(
        "fedex-unpaid",
        r(
            8,
            site="arizona",
            kind="imaging",
            days_ago=2,
            now=now,
            first="Dale",
            last="Mesaview",
            delivery="fedex",
        ),
        (Status.AWAITING_VERIFICATION, verify),
    )
    add(
        "fedex-paid",
        r(
            9,
            site="wisconsin",
            kind="imaging",
            days_ago=5,
            now=now,
            first="Ingrid",
            last="Pinecrest",
            delivery="fedex",
        ),
        (Status.AWAITING_VERIFICATION, verify),
        (Status.AWAITING_PAYMENT, pay),
    )
    add(
        "ready",
        r(
            10,
            site="minnesota",
            kind="third_party",
            days_ago=6,
            now=now,
            first="Victor",
            last="Stonebridge",
            delivery="us_mail",
            third_party=True,
        ),
        (Status.AWAITING_VERIFICATION, verify),
        (Status.AWAITING_PAYMENT, PAY_QUOTE),
    )
    add(
        "completed-email",
        r(
            11,
            site="minnesota",
            kind="access_own",
            days_ago=5,
            now=now,
            first="Nora",
            last="Fieldstone",
        ),
        (Status.AWAITING_VERIFICATION, verify),
        (Status.READY_TO_RELEASE, complete),
    )
    add(
        "completed-mail",
        r(
            12,
            site="florida",
            kind="third_party",
            days_ago=9,
            now=now,
            first="Elias",
            last="Harborview",
            delivery="us_mail",
            third_party=True,
        ),
        (Status.AWAITING_VERIFICATION, verify),
        (Status.AWAITING_PAYMENT, PAY_QUOTE),
        (Status.READY_TO_RELEASE, complete),
    )
    add(
        "at-risk",
        r(
            13,
            site="arizona",
            kind="access_own",
            days_ago=16,
            now=now,
            first="June",
            last="Canyonridge",
        ),
    )
    add(
        "at-risk-wi",
        r(
            14,
            site="wisconsin",
            kind="third_party",
            days_ago=18,
            now=now,
            first="Karl",
            last="Birchwood",
            delivery="us_mail",
            third_party=True,
        ),
    )
    add(
        "legal-risk",
        r(
            15,
            site="minnesota",
            kind="access_own",
            days_ago=28,
            now=now,
            first="Amara",
            last="Prairiefield",
        ),
    )
    add(
        "breached",
        r(
            16,
            site="florida",
            kind="access_own",
            days_ago=35,
            now=now,
            first="Louis",
            last="Marshgate",
            delivery="us_mail",
        ),
    )
    add(
        "extended",
        r(
            17,
            site="minnesota",
            kind="access_own",
            days_ago=20,
            now=now,
            first="Tessa",
            last="Willowmere",
        ),
        (
            Status.AWAITING_VERIFICATION,
            actions.Extend(
                actor=SPECIALIST,
                reason="Older records are being retrieved from off-site storage",
                new_due_date=(now - timedelta(days=20)).date() + timedelta(days=55),
            ),
        ),
    )
    add(
        "denied",
        r(
            18,
            site="wisconsin",
            kind="access_own",
            days_ago=4,
            now=now,
            first="Simon",
            last="Quarrystone",
        ),
        (
            Status.AWAITING_VERIFICATION,
            actions.Deny(
                actor=SPECIALIST,
                basis="psychotherapy_notes",
                explanation="The request named only psychotherapy notes.",
            ),
        ),
    )
    add(
        "cancelled",
        r(19, site="arizona", kind="access_own", days_ago=2, now=now, first="Mei", last="Sunridge"),
        (
            Status.AWAITING_VERIFICATION,
            actions.Cancel(
                actor=SPECIALIST, reason="The patient downloaded the records from the portal."
            ),
        ),
    )
    add(
        "imaging-link",
        r(20, site="florida", kind="imaging", days_ago=1, now=now, first="Andre", last="Bayside"),
    )
    add_other_kinds(add, now)
    return cases


def _case_base(
    n: int, site: str, days_ago: float, now: datetime, first: str, last: str
) -> dict[str, Any]:
    data = _request(
        n, site=site, kind="access_own", days_ago=days_ago, now=now, first=first, last=last
    )
    return {
        k: data[k] for k in ("site", "channel", "received_at", "language", "patient", "requester")
    }


def add_other_kinds(add: Any, now: datetime) -> None:
    """Amendment, accounting, proxy, billing, HIMS notices, legal and provider requests."""
    base = _case_base
    add(
        "amendment",
        {
            **base(30, "florida", 12, now, "Greta", "Ironwood"),
            "kind": "amendment",
            "record_description": "Medication list, visit of 2026-06-02",
            "requested_change": "Remove lisinopril; I never took it.",
            "reason": "It belongs to a different patient.",
        },
    )
    add(
        "amendment-denied",
        {
            **base(31, "minnesota", 20, now, "Hugo", "Ashdown"),
            "kind": "amendment",
            "record_description": "Diagnosis on 2025-11-03",
            "requested_change": "Change the diagnosis",
            "reason": "I disagree",
        },
        (
            Status.UNDER_REVIEW,
            actions.DenyAmendment(
                actor="amend.demo",
                basis="accurate_and_complete",
                explanation="Reviewed with the treating physician.",
            ),
            AmendmentWorkflow.deny,
        ),
    )
    add("accounting", {**base(32, "arizona", 5, now, "Ines", "Copperfield"), "kind": "accounting"})
    add(
        "billing",
        {
            **base(33, "wisconsin", 2, now, "Jonas", "Elmstead"),
            "kind": "billing",
            "question": "Itemized statement for my August visit",
        },
    )
    proxy = {
        **base(34, "minnesota", 1, now, "Kiri", "Maplewood"),
        "kind": "proxy_access",
        "basis": "parent_of_minor",
        "documents": [{"kind": "birth certificate"}],
    }
    proxy["patient"] = {
        "first_name": "Kiri",
        "last_name": "Maplewood",
        "date_of_birth": "2016-04-12",
    }
    proxy["requester"] = {**proxy["requester"], "first_name": "Lee", "relationship": "parent"}
    add(
        "proxy",
        proxy,
        (
            Status.UNDER_REVIEW,
            actions.ProxyDecision(actor="spec.demo", approve=True, documents_verified=True),
            ProxyAccessWorkflow.decide,
        ),
    )
    add(
        "deceased",
        {
            "kind": "deceased_notice",
            "site": "wisconsin",
            "channel": "email",
            "received_at": (now - timedelta(days=1)).isoformat(),
            "patient": {
                "first_name": "Walter",
                "middle_name": "J",
                "last_name": "Hollowell",
                "date_of_birth": "1941-08-30",
                "date_of_death": (now - timedelta(days=6)).date().isoformat(),
            },
            "reporter": {
                "first_name": "Ruth",
                "last_name": "Hollowell",
                "relationship": "daughter",
                "phone": "608-555-0117",
            },
        },
    )
    add(
        "adoption-rejected",
        {
            "kind": "adoption_notice",
            "site": "florida",
            "channel": "mail",
            "received_at": (now - timedelta(days=2)).isoformat(),
            "patient": {
                "first_name": "Milo",
                "last_name": "Seagrove",
                "date_of_birth": "2022-01-05",
            },
            "parents": [
                {
                    "first_name": "Dana",
                    "last_name": "Seagrove",
                    "contact": {
                        "address": {
                            "line1": "44 Example Ct",
                            "city": "Jacksonville",
                            "state": "FL",
                            "postal_code": "32224",
                        }
                    },
                }
            ],
            "document_type": "birth_certificate",
            "pages_received": 1,
        },
    )
    add(
        "adoption",
        {
            "kind": "adoption_notice",
            "site": "florida",
            "channel": "mail",
            "received_at": (now - timedelta(days=3)).isoformat(),
            "patient": {
                "first_name": "Nia",
                "last_name": "Coralline",
                "date_of_birth": "2021-09-15",
            },
            "parents": [
                {
                    "first_name": "Owen",
                    "last_name": "Coralline",
                    "contact": {
                        "address": {
                            "line1": "45 Example Ct",
                            "city": "Jacksonville",
                            "state": "FL",
                            "postal_code": "32224",
                        }
                    },
                }
            ],
            "document_type": "adoption_decree",
            "pages_received": 6,
        },
    )
    court = _request(
        35,
        site="minnesota",
        kind="court_order",
        days_ago=4,
        now=now,
        first="Paz",
        last="Lindqvist",
        delivery="us_mail",
        third_party=True,
    )
    court.pop("authorization")
    court["legal_document"] = {
        "court": "Olmsted County District Court",
        "case_number": "55-CV-26-881",
        "issued_on": (now - timedelta(days=10)).date().isoformat(),
        "signed_by_judge": True,
    }
    add("court-order", court)
    add(
        "outside-records",
        {
            "kind": "outside_records",
            "site": "arizona",
            "channel": "fax",
            "received_at": (now - timedelta(days=1)).isoformat(),
            "sender_name": "Desert Valley Imaging",
        },
    )


def write_demo_records(records: Path, now: datetime) -> int:
    """A synthetic record folder for every demo patient, in the folder record source (kept as
    it is when written before); returns how many patients there are."""
    from fakes.records import synthetic_patient  # the demo's, not the engine's

    patients = {
        (p["first_name"], p["last_name"], p["date_of_birth"]): p
        for p in (case.data.get("patient") for case in demo_cases(now))
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
    for case in demo_cases(now):
        result = await intake.submit(
            case.data,
            database_url=database_url,
            client=client,
            task_queue=task_queue,
            source="demo",
            idempotency_key=case.key,
            now=now,
        )
        if result.redirected:
            counts["redirected"] = counts.get("redirected", 0) + 1
            continue
        if not result.accepted or not result.request_id:
            log.warning("seed.rejected", key=case.key, codes=[e.code for e in result.errors])
            continue
        counts["already_there" if result.duplicate else "submitted"] += 1
        for stage, action, *update in case.steps:
            state = await _wait_for_triage(client, result.request_id)
            if state is None or state.status != stage:
                continue
            if isinstance(action, actions.Extend) and state.clock.extended:
                continue
            if action == PAY_QUOTE and isinstance(state, RequestState):
                action = actions.RecordPayment(
                    actor=SPECIALIST, amount_cents=state.fee_due_cents, reference="CHECK-DEMO"
                )
            try:
                await staff.perform(client, result.request_id, action, update=(update or [None])[0])
                counts["actions"] += 1
            except staff.ActionRefused as refused:
                log.warning("seed.action_refused", key=case.key, reason=refused.message)
    return counts


async def _wait_for_triage(client: Client, request_id: str) -> RequestState | CaseState | None:
    """The workflow's state once it has left RECEIVED (it needs a running worker)."""
    for _ in range(200):
        state = await staff.any_state(client, request_id)
        if state.status != Status.RECEIVED:
            return state
        await asyncio.sleep(0.05)
    return None
