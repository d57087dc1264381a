"""The status page in the patient's language: tracking number + date of birth -> the stage,
what the hospital is waiting for and what to do, the expected date, the FedEx tracking number
once shipped and any fee paid. Reads the same store functions as the staff app's /status.

A wrong answer looks exactly like an unknown tracking number; lookups are counted per client
address and per tracking number before the date of birth is compared (a right one gives its
attempt back), so guessing dates of birth is slow.
"""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from domain.types import CLOSED_FOR_REQUESTER, Status
from portal.context import Limited, ctx_of
from portal.forms import N_
from portal.render import gettext_for, language_of, render
from portal.routes.requests import page_context
from portal.security import client_address
from portal.throttle import give_back, opaque, take
from store import requests
from store.audit import audit
from store.db import session_scope
from store.receipts import receipts
from store.security import record_security_event

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

NOT_FOUND = N_(
    "We could not find a request with that tracking number and date of birth. Check both and "
    "try again, or call the Release of Information office."
)

#: Per stage: what the public sees, and what the patient should do (None: nothing).
STAGES: dict[str, tuple[str, str | None]] = {
    Status.RECEIVED: (N_("Received"), None),
    Status.DEFICIENT: (
        N_("Waiting for a corrected authorization form"),
        N_("Read our letter: it names what is missing. Send the corrected form back to us."),
    ),
    Status.AWAITING_VERIFICATION: (
        N_("Being reviewed"),
        N_("We may call you to confirm who you are. No action is needed until then."),
    ),
    Status.AWAITING_PAYMENT: (
        N_("Waiting for payment"),
        N_("Pay the fee in our letter; the records are sent once it is paid."),
    ),
    Status.READY_TO_RELEASE: (N_("Being prepared"), None),
    Status.FULFILLING: (N_("Being sent"), None),
    Status.QUEUED_FOR_BATCH: (N_("Being sent"), None),
    Status.UNDER_REVIEW: (N_("Being reviewed"), None),
    Status.AWAITING_REQUESTER: (
        N_("Waiting for your answer"),
        N_("We sent you a letter with a question. Answer it so we can go on."),
    ),
    Status.NOTIFYING: (N_("Being completed"), None),
    Status.AWAITING_DISAGREEMENT: (N_("Decision sent"), None),
    Status.ACTIVE: (N_("Completed"), None),
    Status.COMPLETED: (N_("Completed"), None),
    Status.DENIED: (N_("Closed: a letter explaining the decision was sent"), None),
    Status.CANCELLED: (N_("Closed"), None),
    Status.EXPIRED: (N_("Closed"), None),
    Status.REJECTED: (N_("Closed: a letter explaining why was sent"), None),
    Status.DENIAL_REVIEW: (N_("Decision being reviewed"), None),
}
IN_PROGRESS = N_("In progress")


def _normalize(tracking: str) -> str:
    """ROI-XXXXX-XXXXX from what was typed (spaces, dashes, lower case)."""
    compact = "".join(c for c in tracking.upper() if c.isalnum())
    if compact.startswith("ROI") and len(compact) == 13:
        return f"ROI-{compact[3:8]}-{compact[8:]}"
    return tracking.strip().upper()[:32]


def _page(request: Request, **values: Any) -> dict[str, Any]:
    return {
        **page_context(request),
        "result": None,
        "error": None,
        "tracking_value": "",
        **values,
    }


@router.get("/status", response_class=HTMLResponse)
def status_form(request: Request) -> Response:
    """The lookup form."""
    return render(request, "status.html", _page(request))


@router.post("/status", response_class=HTMLResponse)
def status_lookup(
    request: Request,
    tracking_number: Annotated[str, Form(max_length=40)] = "",
    date_of_birth: Annotated[str, Form(max_length=10)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """One lookup: counted first, then compared."""
    request.state.form_lang = lang or None
    gettext = gettext_for(language_of(request))
    ctx = ctx_of(request)
    limits = ctx.portal
    now = datetime.now(UTC)
    tracking = _normalize(tracking_number)
    client = opaque(client_address(request))
    buckets = [f"portal:status:ip:{client}", f"portal:status:trk:{opaque(tracking)}"]
    try:
        dob: date | None = date.fromisoformat(date_of_birth.strip())
    except ValueError:
        dob = None
    with session_scope(ctx.db()) as session:
        wait = take(
            session,
            buckets,
            limits.status_per_window,
            timedelta(minutes=limits.status_window_minutes),
            now,
        )
        if wait is not None:
            record_security_event(
                session,
                action="portal.status",
                outcome="throttled",
                client=client,
                at=now,
                detail={"retry_after": wait},
            )
    if wait is not None:
        raise Limited(wait)
    with session_scope(ctx.db()) as session:
        row = requests.status_row(session, tracking)
        # compare even when nothing was found, so both failures take the same path
        stored = row.patient_dob.isoformat() if row else "0000-00-00"
        matches = hmac.compare_digest(stored, dob.isoformat() if dob else "x") and row is not None
        if not matches or row is None:
            log.info("portal.status_not_matched")
            return render(
                request,
                "status.html",
                _page(request, error=gettext(NOT_FOUND), tracking_value=tracking_number[:40]),
                status_code=404,
            )
        give_back(session, tuple(buckets))
        audit(session, row.id, "public", "status.looked_up", now)
        found = receipts(session, row.id, row.site)
    stage, todo = STAGES.get(row.status, (IN_PROGRESS, None))
    closed = row.status in CLOSED_FOR_REQUESTER
    result = {
        "stage": gettext(stage),
        "todo": gettext(todo) if todo else None,
        "closed": closed,
        "date": row.closed_at.date() if closed and row.closed_at else row.due_date,
        "carrier_tracking_number": found.carrier_tracking_number,
        "payments": found.payments,
    }
    log.info("portal.status_looked_up", request_id=row.id)
    return render(request, "status.html", _page(request, result=result))
