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
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from domain.effects import StaffNotification
from domain.types import CLOSED_FOR_REQUESTER, Status
from portal import deficiencies, forms, uploads
from portal.context import Limited, ctx_of
from portal.forms import N_
from portal.render import gettext_for, language_of, render
from portal.routes.requests import form_values, page_context
from portal.security import client_address
from portal.throttle import give_back, opaque, take
from store import intake as intake_rows
from store import portal as portal_rows
from store import requests
from store.audit import audit
from store.db import session_scope
from store.receipts import receipts
from store.repository import append_event, record_notification
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
CORRECTION_RECEIVED = N_(
    "We received your corrected form. We will review it and write to you if anything else is "
    "needed; sending it does not change the request by itself."
)
CORRECTION_EXPIRED = N_("This page is too old to send a form. Look up the request again.")
#: The upload form's path (main.py lets it carry a document) and how long a lookup allows it.
CORRECTION_PATH = "/status/correction"
CORRECTION_MAX_AGE = 3600
UPLOAD_KIND = "corrected_authorization"
#: Corrected forms one request takes per day.
CORRECTIONS_PER_DAY = 5
DAY = timedelta(days=1)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    """Signs the request id into the page after a right lookup, so the upload needs neither the
    date of birth in the page nor a second lookup (an hour, this request only)."""
    return URLSafeTimedSerializer(secret, salt="portal.status.correction")


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
        "received": None,
        "upload_error": None,
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
        missing = (
            requests.deficiency_codes(session, row.id) if row.status == Status.DEFICIENT else []
        )
    result = _result(request, row, found, missing)
    log.info("portal.status_looked_up", request_id=row.id)
    return render(request, "status.html", _page(request, result=result))


def _result(
    request: Request, row: requests.StatusRow, found: Any, missing: list[str]
) -> dict[str, Any]:
    """What the page shows of a request (with the upload form's signed id when deficient)."""
    gettext = gettext_for(language_of(request))
    stage, todo = STAGES.get(row.status, (IN_PROGRESS, None))
    closed = row.status in CLOSED_FOR_REQUESTER
    deficient = row.status == Status.DEFICIENT
    secret = ctx_of(request).settings.link_secret
    return {
        "stage": gettext(stage),
        "todo": gettext(todo) if todo else None,
        "closed": closed,
        "date": row.closed_at.date() if closed and row.closed_at else row.due_date,
        "carrier_tracking_number": found.carrier_tracking_number,
        "payments": found.payments,
        "missing": deficiencies.sentences(missing, gettext) if deficient else [],
        "correction": _serializer(secret).dumps(row.id) if deficient else None,
        "megabytes": max(1, ctx_of(request).portal.upload_max_bytes // 1_000_000),
    }


@router.post(CORRECTION_PATH, response_class=HTMLResponse)
async def correction(request: Request) -> Response:
    """A corrected, signed authorization for a deficient request: re-encoded (portal/uploads.py),
    stored sealed with the request's submission, an audit row and a note to staff. Staff review
    it and use the correct-authorization action; nothing here changes the workflow."""
    values, files = await form_values(request)
    ctx = ctx_of(request)
    gettext = gettext_for(language_of(request))
    try:
        request_id = str(
            _serializer(ctx.settings.link_secret).loads(
                values.get("correction", ""), max_age=CORRECTION_MAX_AGE
            )
        )
    except BadSignature:
        log.info("portal.correction_refused", reason="token")
        return render(
            request,
            "status.html",
            _page(request, error=gettext(CORRECTION_EXPIRED)),
            status_code=403,
        )
    wait = await run_in_threadpool(_count_upload, request, request_id)
    if wait is not None:
        raise Limited(wait)
    megabytes = max(1, ctx.portal.upload_max_bytes // 1_000_000)
    try:
        document = uploads.clean(files.get("corrected_file") or b"", ctx.portal.upload_max_bytes)
    except uploads.UploadRefused as refused:
        problem = forms.portal_error("corrected_file", refused.code, gettext, megabytes=megabytes)
        return await run_in_threadpool(_again, request, request_id, problem.message)
    stored = await run_in_threadpool(_keep, request, request_id, document)
    if stored is None:
        return render(
            request,
            "status.html",
            _page(request, error=gettext(CORRECTION_EXPIRED)),
            status_code=409,
        )
    log.info("portal.correction_received", request_id=request_id, upload_id=stored)
    return render(request, "status.html", _page(request, received=gettext(CORRECTION_RECEIVED)))


def _count_upload(request: Request, request_id: str) -> int | None:
    """Corrected forms per request per day (a lookup's signed id works for an hour: this keeps
    one from filling the request with files); seconds to wait, or None."""
    now = datetime.now(UTC)
    with session_scope(ctx_of(request).db()) as session:
        wait = take(session, [f"portal:correction:req:{request_id}"], CORRECTIONS_PER_DAY, DAY, now)
        if wait is not None:
            record_security_event(
                session,
                action="portal.correction",
                outcome="throttled",
                client=opaque(client_address(request)),
                at=now,
                detail={"retry_after": wait, "request_id": request_id},
            )
    return wait


def _again(request: Request, request_id: str, message: str) -> Response:
    """The status page again, with the upload's error next to its field."""
    with session_scope(ctx_of(request).db()) as session:
        row = requests.request_row(session, request_id)
        if row is None or row.status != Status.DEFICIENT:
            return render(request, "status.html", _page(request), status_code=409)
        found = receipts(session, row.id, row.site)
        missing = requests.deficiency_codes(session, row.id)
        status = requests.StatusRow(
            row.id, row.patient_dob, row.status, row.due_date, row.closed_at, row.team, row.site
        )
    result = _result(request, status, found, missing)
    return render(
        request, "status.html", _page(request, result=result, upload_error=message), status_code=422
    )


def _keep(request: Request, request_id: str, document: uploads.CleanDocument) -> str | None:
    """Store the form with the request's submission, audit it and tell staff (one
    transaction); None when the request is no longer waiting for a form."""
    ctx = ctx_of(request)
    now = datetime.now(UTC)
    with session_scope(ctx.db()) as session:
        row = requests.request_row(session, request_id)
        submission = intake_rows.request_submission(session, request_id)
        if row is None or row.status != Status.DEFICIENT or submission is None:
            return None
        upload_id = portal_rows.store_upload(
            session,
            submission_id=submission.id,
            kind=UPLOAD_KIND,
            media_type=document.media_type,
            content=document.content,
            keys=ctx.settings.payload_keys,
        )
        append_event(
            session,
            key=f"{request_id}-correction-{upload_id}",
            request_id=request_id,
            actor="public",
            action="authorization.correction_uploaded",
            at=now,
            detail={"upload": upload_id, "media_type": document.media_type},
        )
        record_notification(
            session,
            StaffNotification(
                key=f"{request_id}-correction-{upload_id}",
                request_id=request_id,
                audience="assignee",
                kind="correction_uploaded",
                at=now,
            ),
        )
    log.info(
        "staff.notified", request_id=request_id, audience="assignee", kind="correction_uploaded"
    )
    return upload_id
