"""The chaos run's workload: a realistic mix of requests, and staff working them through the
same Updates the web app sends, however often the stack falls over underneath.

Mix: own records by email link, third party by US mail (on a valid authorization; the law firm
pays the site's quote first), imaging by FedEx ($45 paid first), imaging on an encrypted CD by
US mail (its password goes by email).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from temporalio.client import Client

from domain import actions
from domain.state import RequestState
from domain.types import Status
from fakes.records import write_patient
from services import staff
from store.db import session_scope
from store.models import RecordRequest
from tests import factories

STAFF = "spec.chaos"
FEDEX_CENTS = 4500
#: (share, label) of the mix; labels name the path a request takes
MIX = [(0.40, "email"), (0.25, "mail"), (0.20, "fedex"), (0.15, "cd")]

#: a few synthetic patients (no real person): several requests may be for one patient
PATIENTS = [
    ("Avery", "Chaostest", "1984-03-09"),
    ("Jordan", "Faultline", "1979-11-23"),
    ("Riley", "Outagely", "1991-06-30"),
    ("Casey", "Retryson", "1966-01-14"),
    ("Morgan", "Killwell", "2001-09-02"),
    ("Quinn", "Restarter", "1958-12-19"),
]
DOCS = [
    {"id": "visit-2024", "record_type": "visit_notes", "title": "Clinic visit note",
     "service_date": "2024-05-02", "pages": 2},
    {"id": "lab-2025", "record_type": "lab_results", "title": "Lipid panel",
     "service_date": "2025-02-11", "pages": 1},
    {"id": "img-2024", "record_type": "imaging_study", "title": "MRI lumbar spine",
     "service_date": "2024-08-20", "content_type": "application/dicom",
     "content": b"\0" * 128 + b"DICMsynthetic"},
]  # fmt: skip


def write_records(root: Path) -> None:
    """The record source's folder: every patient of the run with notes, labs and imaging."""
    for n, (first, last, dob) in enumerate(PATIENTS):
        patient = {"first_name": first, "last_name": last, "date_of_birth": dob}
        write_patient(root, f"p{n}", {**patient, "mrn": f"MRN-{n:07d}"}, DOCS)


@dataclass
class Planned:
    """One request of the run, what it should end as, and what staff did to it."""

    n: int
    path: str  # email, mail, fedex, cd
    data: dict[str, Any]
    request_id: str = ""
    staff_at: float = 0.0  # seconds into the fault window when staff first pick it up
    actions_sent: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    errors: int = 0

    @property
    def email(self) -> str:
        return self.data["requester"]["contact"]["email"]


def plan(rng: random.Random, count: int, now: datetime) -> list[Planned]:
    """`count` requests in the mix, each for one of the synthetic patients, received just now."""
    labels = [label for share, label in MIX for _ in range(max(1, round(share * count)))]
    rng.shuffle(labels)
    planned = []
    for n in range(count):
        label = labels[n % len(labels)]
        first, last, dob = rng.choice(PATIENTS)
        patient = {"first_name": first, "last_name": last, "date_of_birth": dob}
        self_requester = {
            "first_name": first,
            "last_name": last,
            "relationship": "self",
            "contact": {
                "email": f"chaos.{n}@example.org",
                "phone": "507-555-0142",
                "address": {"line1": f"{100 + n} Example Ave", "city": "Rochester",
                            "state": "MN", "postal_code": "55901"},
            },
        }  # fmt: skip
        received = (now - timedelta(minutes=rng.randint(1, 600))).isoformat()
        common = {"patient": patient, "received_at": received, "site": rng.choice(SITES)}
        if label == "email":
            data = factories.own_records(requester=self_requester, **common)
        elif label == "mail":
            data = factories.third_party(**common)
            data["requester"]["contact"]["email"] = f"chaos.{n}@harborlaw.example"
        elif label == "fedex":
            data = factories.imaging_fedex(requester=self_requester, **common)
        else:
            data = factories.imaging_fedex(
                requester=self_requester, delivery_method="cd_mail", **common
            )
        planned.append(Planned(n=n, path=label, data=data))
    return planned


SITES = ["minnesota", "wisconsin", "arizona", "florida"]


class ClientBox:
    """The Temporal client every driver uses; replaced after the server restarts."""

    def __init__(self, client: Client) -> None:
        self.client = client


class StatusBoard:
    """The read model's stage of every request, read in one query a second (as the staff
    queue is); a PostgreSQL outage leaves the last known stages in place."""

    def __init__(self, database_url: str, request_ids: list[str]) -> None:
        self.database_url = database_url
        self.ids = request_ids
        self.status: dict[str, str] = {}
        self.failed_reads = 0

    def refresh(self) -> None:
        try:
            with session_scope(self.database_url) as session:
                rows = session.execute(
                    select(RecordRequest.id, RecordRequest.status).where(
                        RecordRequest.id.in_(self.ids)  # type: ignore[attr-defined]
                    )
                ).all()
            self.status.update({rid: status for rid, status in rows})
        except Exception:  # PostgreSQL is down: keep what we knew
            self.failed_reads += 1

    def done(self) -> int:
        return sum(1 for s in self.status.values() if s == Status.COMPLETED.value)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self.refresh)
            await asyncio.sleep(1.0)


async def work_request(
    item: Planned, box: ClientBox, board: StatusBoard, rng: random.Random, t0: float
) -> None:
    """A specialist works one request to the end: verify, take the fee, release.

    Every step is decided from the request's current stage, so a step whose answer was lost in
    an outage is simply looked at again (a repeat is refused by the workflow, never applied).
    """
    await asyncio.sleep(max(0.0, t0 + item.staff_at - time.monotonic()))
    third_party = item.path == "mail"
    acted_on: str | None = None  # the stage the last accepted action left
    while True:
        status = board.status.get(item.request_id)
        action: Any = None
        if status == acted_on:
            pass  # accepted; the read model has not caught up yet
        elif status == Status.AWAITING_VERIFICATION:
            action = actions.VerifyIdentity(
                actor=STAFF, method=actions.IdentityMethod.PHOTO_ID, authority_confirmed=third_party
            )
        elif status == Status.AWAITING_PAYMENT:
            # what the request page shows as owed: FedEx's $45, a law firm's quoted copies
            try:
                state = await asyncio.wait_for(staff.any_state(box.client, item.request_id), 45)
            except Exception:  # Temporal restarting, worker gone: look again
                item.errors += 1
                state = None
            if isinstance(state, RequestState) and state.fee_due_cents:
                action = actions.RecordPayment(
                    actor=STAFF, amount_cents=state.fee_due_cents, reference=f"PAY-{item.n}"
                )
        elif status == Status.READY_TO_RELEASE:
            action = actions.Complete(actor=STAFF)
        elif status == Status.COMPLETED:
            return
        if action is not None:
            name = type(action).__name__
            item.actions_sent[name] = item.actions_sent.get(name, 0) + 1
            try:
                await asyncio.wait_for(staff.perform(box.client, item.request_id, action), 45)
                acted_on = status
            except staff.ActionRefused:
                item.refused += 1  # already done (the earlier answer was lost): look again
            except Exception:  # Temporal restarting, worker gone, timeout: look again
                item.errors += 1
        await asyncio.sleep(1.0 + rng.random())
