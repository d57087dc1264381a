"""Released records downloaded from the portal: where a non-imaging email link points when
ROI_PORTAL_PUBLIC_BASE_URL is set (activities/channels/dispatch.py `link_url`).

The signed token is the link (the same rows and checks as the staff app's `/download/<token>`
and the imaging study page: signature, expiry, revocation; services/links.py). Before the
files are served the patient proves two things on this device: the patient's date of birth
(counted per client address and per link before it is compared), then a one-time code mailed
to the request's email address (portal/codes.py; tries counted). A device that did both gets a
signed cookie for ROI_PORTAL_LINK_DEVICE_HOURS. Every use, served or refused, is an access
event naming its item (`records:page`, `records:dob`, `records:code`, `records:file`); the
token, the code and the address are never logged (config/redact.py redacts `/records/`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from portal import codes, forms
from portal.context import Limited, ctx_of
from portal.forms import N_
from portal.render import gettext_for, language_of, render
from portal.routes.imaging import REFUSED as IMAGING_REFUSED
from portal.routes.imaging import (
    WRONG_DOB,
    Opened,
    _device,
    _open,
    _with_device,
    answer_date_of_birth,
)
from portal.routes.requests import page_context
from portal.security import client_address, cookie_name
from portal.throttle import opaque, take
from services import links
from store import intake as intake_rows
from store.db import session_scope
from store.security import record_security_event

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

#: Set once the code was right: the link and this device's hash, signed, for the device hours.
PROVEN_COOKIE = "roi_portal_records"
#: Codes mailed per link per hour (the code itself allows codes.MAX_ATTEMPTS wrong tries).
CODES_PER_LINK_HOUR = 5

REFUSED: dict[str, tuple[int, str, str]] = {
    "expired": (
        410,
        IMAGING_REFUSED["expired"][1],
        N_(
            "Download links work for a limited time. Call the Release of Information office "
            "and we will send you a new link."
        ),
    ),
    "revoked": (
        410,
        IMAGING_REFUSED["revoked"][1],
        N_(
            "The link was withdrawn. Call the Release of Information office if you still need "
            "your records."
        ),
    ),
    "invalid": IMAGING_REFUSED["invalid"],
}
CODE_SUBJECT = N_("Your code to download your records")
CODE_BODY = N_(
    "Your code is %(code)s. Type it on the page to download your records. It works for "
    "%(minutes)s minutes. If you did not ask for it, ignore this email: nothing is sent "
    "without it."
)
CODE_SENT = N_("We emailed a code to the address on the request. Type it here.")
NO_EMAIL = N_("We cannot email a code for this request. Call the Release of Information office.")


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx_of(request).settings.link_secret, salt="portal.records")


def _device_hash(device: str) -> str:
    return hashlib.sha256(device.encode()).hexdigest()


def _proven(request: Request, link_id: str | None) -> bool:
    """Whether this device typed the right code for this link within the device hours."""
    raw = request.cookies.get(cookie_name(PROVEN_COOKIE, request))
    if not raw or link_id is None:
        return False
    device, new = _device(request)
    hours = ctx_of(request).portal.link_device_hours
    try:
        value = _serializer(request).loads(raw, max_age=hours * 3600)
    except BadSignature:
        return False
    return not new and bool(value == [link_id, _device_hash(device)])


def _refused(request: Request, outcome: str) -> Response:
    gettext = gettext_for(language_of(request))
    code, title, message = REFUSED.get(outcome, REFUSED["invalid"])
    return render(
        request,
        "error.html",
        {**page_context(request), "title": gettext(title), "message": gettext(message)},
        status_code=code,
    )


def _page(
    request: Request, token: str, step: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    """The records page at one step: `dob`, `code` (the code was mailed) or `ready`."""
    gettext = gettext_for(language_of(request))
    context: dict[str, Any] = {
        **page_context(request),
        "step": step,
        "action": f"/records/{token}",
        "device_hours": ctx_of(request).portal.link_device_hours,
        "notice": gettext(CODE_SENT) if step == "code" else None,
        "error": error,
    }
    return render(request, "records.html", context, status_code=status_code)


def _email_of(database_url: str, request_id: str) -> str | None:
    """Where the records' link was sent (the recipient's, else the requester's address)."""
    with session_scope(database_url) as session:
        found = intake_rows.request_submission(session, request_id)
        payload: dict[str, Any] = found.payload if found is not None else {}
    party = payload.get("recipient") or payload.get("requester") or {}
    email = (party.get("contact") or {}).get("email") if isinstance(party, dict) else None
    return str(email) if email else None


def _mail_code(request: Request, opened: Opened) -> str | None:
    """Issue and mail a code to the request's address (counted per link); an error message
    when it cannot be sent."""
    ctx = ctx_of(request)
    assert opened.link is not None
    now = datetime.now(UTC)
    gettext = gettext_for(language_of(request))
    with session_scope(ctx.db()) as session:
        wait = take(
            session,
            [f"portal:records:code:{opened.link.id}"],
            CODES_PER_LINK_HOUR,
            timedelta(hours=1),
            now,
        )
    if wait is not None:
        raise Limited(wait)
    email = _email_of(ctx.db(), opened.link.request_id)
    if email is None:
        return gettext(NO_EMAIL)
    code_id, code = codes.issue(ctx.db(), email, now)
    codes.send(ctx.settings, code_id, email, code, gettext, subject=CODE_SUBJECT, body=CODE_BODY)
    log.info("portal.records_code_sent", link_id=opened.link.id)
    return None


@router.get("/records/{token}")
def records(request: Request, token: str) -> Response:
    """The download page for a device that gave the date of birth and the code, else the next
    question (or why the link does not work)."""
    opened = _open(request, token, "records:page")
    if opened.outcome in ("dob_asked", "dob_wrong"):
        return _page(request, token, "dob")
    if opened.outcome not in links.SERVED or opened.link is None:
        return _refused(request, opened.outcome)
    return _page(request, token, "ready" if _proven(request, opened.link.id) else "resend")


@router.post("/records/{token}")
def confirm(
    request: Request,
    token: str,
    date_of_birth: Annotated[str, Form(max_length=10)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The patient's date of birth: counted per address and per link before it is compared
    (a right answer gives its attempt back); a wrong one is an access event and a security
    event; the right one trusts this device and mails the code."""
    request.state.form_lang = lang or None
    opened = answer_date_of_birth(request, token, "records", "records:dob", date_of_birth)
    if opened.outcome in ("dob_asked", "dob_wrong"):
        gettext = gettext_for(language_of(request))
        return _page(request, token, "dob", error=gettext(WRONG_DOB), status_code=403)
    if opened.outcome not in links.SERVED:
        return _refused(request, opened.outcome)
    problem = _mail_code(request, opened)
    page = _page(request, token, "resend" if problem else "code", error=problem)
    return _with_device(request, page, opened)


@router.post("/records/{token}/send")
def resend(request: Request, token: str, lang: Annotated[str, Form(max_length=8)] = "") -> Response:
    """A new code for a device that already gave the date of birth."""
    request.state.form_lang = lang or None
    opened = _open(request, token, "records:send")
    if opened.outcome in ("dob_asked", "dob_wrong"):
        return _page(request, token, "dob")
    if opened.outcome not in links.SERVED or opened.link is None:
        return _refused(request, opened.outcome)
    problem = _mail_code(request, opened)
    return _page(request, token, "resend" if problem else "code", error=problem)


@router.post("/records/{token}/code")
async def check_code(
    request: Request,
    token: str,
    code: Annotated[str, Form(max_length=12)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The mailed code: a right one marks this device proven (a signed cookie) and shows the
    download; a wrong one is counted against the code and recorded as a security event."""
    request.state.form_lang = lang or None
    ctx = ctx_of(request)
    gettext = gettext_for(language_of(request))
    opened = await run_in_threadpool(_open, request, token, "records:code")
    if opened.outcome in ("dob_asked", "dob_wrong"):
        return await run_in_threadpool(_page, request, token, "dob")
    if opened.outcome not in links.SERVED or opened.link is None:
        return await run_in_threadpool(_refused, request, opened.outcome)
    link = opened.link
    now = datetime.now(UTC)
    email = await run_in_threadpool(_email_of, ctx.db(), link.request_id)
    checked = (
        await run_in_threadpool(codes.check, ctx.db(), email, code, now)
        if email
        else codes.Check(codes.Outcome.NONE)
    )
    if checked.outcome != codes.Outcome.OK or checked.code_id is None:
        await run_in_threadpool(_code_failed, request, link.request_id, checked.outcome.value, now)
        log.info("portal.records_code_refused", link_id=link.id, outcome=checked.outcome.value)
        key = "code_wrong" if checked.outcome == codes.Outcome.WRONG else "code_expired"
        step = "code" if checked.outcome == codes.Outcome.WRONG else "resend"
        message = forms.portal_error("code", key, gettext).message
        return await run_in_threadpool(_page, request, token, step, error=message, status_code=403)
    await run_in_threadpool(codes.use, ctx.db(), checked.code_id, now)
    log.info("portal.records_code_accepted", link_id=link.id)
    page = await run_in_threadpool(_page, request, token, "ready")
    page.set_cookie(
        cookie_name(PROVEN_COOKIE, request),
        _serializer(request).dumps([link.id, _device_hash(opened.device)]),
        max_age=ctx.portal.link_device_hours * 3600,
        path="/",
        secure=ctx.portal.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return page


def _code_failed(request: Request, request_id: str, outcome: str, now: datetime) -> None:
    with session_scope(ctx_of(request).db()) as session:
        record_security_event(
            session,
            action="portal.records",
            outcome="failed",
            client=opaque(client_address(request)),
            at=now,
            detail={"reason": "code", "code": outcome, "request_id": request_id},
        )


@router.get("/records/{token}/file")
def download(request: Request, token: str) -> Response:
    """The released records as sent (the package the staff app's link serves), for a device
    that gave the date of birth and the code."""
    if not _proven(request, links.link_id_of(ctx_of(request).settings.link_secret, token)):
        return RedirectResponse(f"/records/{token}", status_code=303)  # asks there
    opened = _open(request, token, "records:file")
    if opened.outcome not in links.SERVED or opened.link is None:
        if opened.outcome.startswith("dob"):
            return RedirectResponse(f"/records/{token}", status_code=303)
        return _refused(request, opened.outcome)
    link = opened.link
    if not Path(link.package_path).exists():
        return _refused(request, "expired")
    suffix = ".zip" if link.content_type == "application/zip" else ".pdf"
    log.info("portal.records_downloaded", link_id=link.id)
    return FileResponse(
        link.package_path,
        media_type=link.content_type,
        filename=f"records{suffix}",
        headers={"Cache-Control": "no-store"},
    )
