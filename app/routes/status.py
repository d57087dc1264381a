"""Public status lookup: tracking number + date of birth -> stage and expected date, the FedEx
tracking number and the fee paid (the requester's own), and the team's contact; no more.

A wrong answer looks exactly like an unknown tracking number, and lookups are throttled per
client address and per tracking number (app/throttle.py: counted before the date of birth is
compared, a few free, then a growing wait); while waiting, even a right answer is refused.
"""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app import security_log, throttle
from app.auth import ctx_of
from app.deps import SessionDep
from app.render import render
from app.routes.session import client_address
from app.security import opaque
from app.security_log import Action
from domain.contacts import team_contact
from domain.kinds.common import Team
from domain.sites import site_profile
from domain.types import CLOSED_FOR_REQUESTER, Site, Status
from store import requests
from store.audit import audit
from store.receipts import receipts

router = APIRouter(tags=["status"], include_in_schema=False)
log = structlog.get_logger(__name__)

NOT_FOUND = (
    "We could not find a request with that tracking number and date of birth. Check both and "
    "try again, or call the Release of Information office."
)
LIMITED = (
    "Too many unsuccessful lookups. For your privacy, lookups are paused for a while; please "
    "try again later or call the Release of Information office."
)

#: What the public sees for each stage (never the kind, names or reasons).
PUBLIC_STAGE: dict[str, str] = {
    Status.RECEIVED: "Received",
    Status.DEFICIENT: "Waiting for a corrected authorization form",
    Status.AWAITING_VERIFICATION: "Being reviewed",
    Status.AWAITING_PAYMENT: "Waiting for payment",
    Status.READY_TO_RELEASE: "Being prepared",
    Status.FULFILLING: "Being sent",
    Status.QUEUED_FOR_BATCH: "Being sent",
    Status.UNDER_REVIEW: "Being reviewed",
    Status.AWAITING_REQUESTER: "Waiting for your answer",
    Status.NOTIFYING: "Being completed",
    Status.AWAITING_DISAGREEMENT: "Decision sent",
    Status.ACTIVE: "Completed",
    Status.COMPLETED: "Completed",
    Status.DENIED: "Closed — a letter explaining the decision was sent",
    Status.CANCELLED: "Closed",
    Status.EXPIRED: "Closed",
    Status.REJECTED: "Closed — a letter explaining why was sent",
    Status.DENIAL_REVIEW: "Decision being reviewed",
}
_ROI = team_contact(Team.ROI)  # before a lookup: the office that answers about any request


def _hours() -> list[str]:
    """The sites' business hours (domain.sites), each in its own time; no site is named (the
    page never tells which site holds a request)."""
    zones: dict[tuple[str, str], list[str]] = {}
    for p in (site_profile(s) for s in Site):
        labels = zones.setdefault((f"{p.opens:%H:%M}", f"{p.closes:%H:%M}"), [])
        if p.time_zone_label not in labels:
            labels.append(p.time_zone_label)
    return [
        f"Monday to Friday, {opens}–{closes} in each site's own time ({', '.join(labels)})"
        for (opens, closes), labels in zones.items()
    ]


def _normalize(tracking: str) -> str:
    compact = "".join(c for c in tracking.upper() if c.isalnum())
    if compact.startswith("ROI") and len(compact) == 13:
        return f"ROI-{compact[3:8]}-{compact[8:]}"
    return tracking.strip().upper()[:32]


@router.get("/status", response_class=HTMLResponse)
def status_form(request: Request) -> Response:
    return render(
        request, "status.html", {"result": None, "error": None, "contact": _ROI, "hours": _hours()}
    )


@router.post("/status", response_class=HTMLResponse)
def status_lookup(
    request: Request,
    session: SessionDep,
    tracking_number: Annotated[str, Form(max_length=40)],
    date_of_birth: Annotated[str, Form(max_length=10)],
) -> Response:
    ctx = ctx_of(request)
    web = ctx.web
    now = datetime.now(UTC)
    tracking = _normalize(tracking_number)
    client = opaque(client_address(request))
    buckets = (f"status:ip:{client}", f"status:trk:{opaque(tracking)}")
    policy = throttle.Policy(
        web.status_max_failures,
        timedelta(minutes=web.status_window_minutes),
        base_seconds=web.throttle_base_delay_seconds,
        cap_seconds=float(web.throttle_max_delay_seconds),
    )
    try:
        dob = date.fromisoformat(date_of_birth.strip())
    except ValueError:
        dob = None
    result = None
    # Each lookup takes its place per address and per tracking number (row locks) before the
    # date of birth is compared: parallel guesses cannot pass the allowance; then a growing wait.
    wait = throttle.admit(session, dict.fromkeys(buckets, policy), now)
    if wait is not None:
        detail = {"retry_after": wait}
        security_log.add(session, Action.STATUS, "throttled", client=client, detail=detail)
    session.commit()  # counted (or refused) before the date of birth is compared
    if wait is not None:
        log.info("status.throttled", retry_after=wait)
        return render(
            request,
            "status.html",
            {"result": None, "error": LIMITED, "contact": _ROI, "hours": _hours()},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    row = requests.status_row(session, tracking)
    # Compare even when nothing was found, so both failures take the same path.
    stored = row.patient_dob.isoformat() if row else "0000-00-00"
    matches = hmac.compare_digest(stored, dob.isoformat() if dob else "x") and row is not None
    if matches:
        assert row is not None
        throttle.succeeded(session, give_back=buckets)
        audit(session, row.id, "public", "status.looked_up", now)
        closed = row.status in CLOSED_FOR_REQUESTER
        found = receipts(session, row.id, row.site)
        result = {
            "stage": PUBLIC_STAGE.get(row.status, "In progress"),
            "closed": closed,
            "date": (row.closed_at.date() if closed and row.closed_at else row.due_date),
            # the shipment and the fee paid are the requester's own; no names, no reasons
            "carrier_tracking_number": found.carrier_tracking_number,
            "payments": found.payments,
            "contact": team_contact(row.team),
            "hours": _hours(),
        }
    if result is None:
        log.info("status.not_matched")
        return render(
            request,
            "status.html",
            {"result": None, "error": NOT_FOUND, "contact": _ROI, "hours": _hours()},
            status_code=404,
        )
    return render(
        request,
        "status.html",
        {"result": result, "error": None, "contact": result["contact"], "hours": result["hours"]},
    )
