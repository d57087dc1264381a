"""Requesters' download links: serve one request's released records, record every access.

No sign-in: the signed token is the credential. A link that was altered, expired or revoked
gets a plain page saying so (and how to get a new one); every use, served or refused, is an
access event in `download_access_events`, with the hash of the device's random cookie.

A link downloads once without question; after that only the device that downloaded it (its
cookie), within ROI_WEB_DOWNLOAD_DEVICE_HOURS, downloads again as is. Any other device (a
forwarded email), or the same one later, gets a small form for the patient's date of birth
(POST, throttled per address and per link; a wrong answer is an access event `dob_wrong` and a
security event). Links are throttled per client address (app/throttle.py):
a few wrong or expired ones, then a growing wait (429 with Retry-After, a security event).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import security_log, throttle
from app.auth import cookie_name, ctx_of
from app.config import WebSettings
from app.context import AppContext, TooManyAttempts
from app.deps import SessionDep
from app.render import render
from app.routes.session import client_address
from app.security import new_token, opaque, token_hash
from app.security_log import Action
from services import links
from store.models import DownloadLink

router = APIRouter(tags=["download"], include_in_schema=False)
log = structlog.get_logger(__name__)

#: A random token per browser, set on its first download; access events keep its hash.
DEVICE_COOKIE = "roi_device"
DEVICE_COOKIE_DAYS = 90
WRONG_DOB = (
    "That date of birth does not match our records for this link. Check it and try again, or "
    "call the Release of Information office."
)

REFUSED = {
    "expired": (
        410,
        "This link has expired",
        "Download links work for a limited time. Call or write to the Release of Information "
        "office and we will send you a new link.",
    ),
    "revoked": (
        410,
        "This link is no longer valid",
        "The link was withdrawn. Call the Release of Information office if you still need "
        "your records.",
    ),
    "invalid": (
        404,
        "This link is not valid",
        "Check that you copied the whole link from the email, or call the Release of "
        "Information office.",
    ),
}


def _admit(session: Session, ctx: AppContext, bucket: str, client: str) -> int | None:
    """Take this attempt's place in the client address's bucket before the link is checked
    (wrong or expired links: a few free, then a growing wait); seconds to wait, or None.
    Committed here: the attempt counts (and a refusal is recorded) whatever comes next."""
    web = ctx.web
    policy = throttle.Policy(
        web.download_max_failures,
        timedelta(minutes=web.login_window_minutes),
        base_seconds=web.throttle_base_delay_seconds,
        cap_seconds=float(web.throttle_max_delay_seconds),
    )
    now = datetime.now(UTC)
    wait = throttle.admit(session, {bucket: policy}, now)
    if wait is not None:
        security_log.add(
            session,
            Action.DOWNLOAD,
            "throttled",
            client=client,
            detail={"retry_after": wait},
        )
    session.commit()
    return wait


def _policy(web: WebSettings, free: int) -> throttle.Policy:
    return throttle.Policy(
        free,
        timedelta(minutes=web.login_window_minutes),
        base_seconds=web.throttle_base_delay_seconds,
        cap_seconds=float(web.throttle_max_delay_seconds),
    )


def _cookie_name(web: WebSettings) -> str:
    """`__Host-roi_device` when cookies are Secure (no Domain, Path=/: this host only)."""
    return cookie_name(DEVICE_COOKIE, web)


def _device(request: Request, web: WebSettings) -> tuple[str, bool]:
    """The device's random token from its cookie, or a new one (True: set the cookie)."""
    raw = request.cookies.get(_cookie_name(web))
    if raw and 32 <= len(raw) <= 64 and all(c.isalnum() or c in "-_" for c in raw):
        return raw, False
    return new_token(), True


def _with_device(response: Response, web: WebSettings, token: str, new: bool) -> Response:
    if new:
        response.set_cookie(
            _cookie_name(web),
            token,
            max_age=DEVICE_COOKIE_DAYS * 86400,
            path="/",
            secure=web.cookie_secure,
            httponly=True,
            samesite="lax",  # the link is opened from an email (a cross-site navigation)
        )
    return response


async def _answer(
    request: Request,
    ctx: AppContext,
    outcome: str,
    link: DownloadLink | None,
    device: tuple[str, bool],
    *,
    status_code: int = 200,
) -> Response:
    web = ctx.web
    if outcome in links.SERVED and link is not None and Path(link.package_path).exists():
        suffix = ".zip" if link.content_type == "application/zip" else ".pdf"
        served = FileResponse(
            link.package_path,
            media_type=link.content_type,
            filename=f"records{suffix}",
            headers={"Cache-Control": "no-store"},
        )
        return _with_device(served, web, *device)
    if outcome in ("dob_asked", "dob_wrong"):
        page = await run_in_threadpool(
            render,
            request,
            "download_dob.html",
            {"error": WRONG_DOB if outcome == "dob_wrong" else None},
            status_code=403 if outcome == "dob_wrong" else 200,
        )
        page.headers["Cache-Control"] = "no-store"
        return _with_device(page, web, *device)
    code, title, message = REFUSED.get(outcome, REFUSED["invalid"])
    return await run_in_threadpool(
        render, request, "error.html", {"title": title, "message": message}, status_code=code
    )


@router.get("/download/{token}")
async def download(request: Request, token: str, session: SessionDep) -> Response:
    """The records behind a valid link (its first download, or the same device again within
    its hours), a date-of-birth form (any other use), or a page saying why not."""
    ctx = ctx_of(request)
    client = opaque(client_address(request))
    bucket = f"download:ip:{client}"
    wait = await run_in_threadpool(_admit, session, ctx, bucket, client)
    if wait is not None:
        log.info("download.throttled", retry_after=wait)
        raise TooManyAttempts(wait)
    link_id = links.link_id_of(ctx.settings.link_secret, token)
    device = _device(request, ctx.web)

    def open_it() -> tuple[str, DownloadLink | None]:
        found = links.open_download(
            session,
            link_id,
            now=datetime.now(UTC),
            client=client[:64],
            device=token_hash(device[0]),
            trusted_for=timedelta(hours=ctx.web.download_device_hours),
        )
        if found[0] in links.SERVED or found[0] == "dob_asked":
            throttle.succeeded(session, give_back=(bucket,))  # only failures count
        return found

    outcome, link = await run_in_threadpool(open_it)
    log.info("download.accessed", link_id=link.id if link else None, outcome=outcome)
    return await _answer(request, ctx, outcome, link, device)


@router.post("/download/{token}")
async def confirm_download(
    request: Request,
    token: str,
    session: SessionDep,
    date_of_birth: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The patient's date of birth for a link already used: counted per address and per link
    before it is compared (a few wrong, then a growing wait; parallel guesses cannot pass the
    allowance); a wrong one is an access event and a security event; the right one serves the
    records and trusts this device for the next hours."""
    ctx = ctx_of(request)
    web = ctx.web
    client = opaque(client_address(request))
    link_id = links.link_id_of(ctx.settings.link_secret, token)
    buckets = {f"download:ip:{client}": _policy(web, web.download_max_failures)}
    if link_id is not None:
        buckets[f"download:link:{link_id}"] = _policy(web, web.download_dob_max_failures)
    now = datetime.now(UTC)

    def admit() -> int | None:
        wait = throttle.admit(session, buckets, now)
        if wait is not None:
            security_log.add(
                session,
                Action.DOWNLOAD,
                "throttled",
                client=client,
                detail={"retry_after": wait, "step": "date_of_birth"},
            )
        session.commit()  # counted (or refused) before the date of birth is compared
        return wait

    wait = await run_in_threadpool(admit)
    if wait is not None:
        log.info("download.throttled", retry_after=wait, step="date_of_birth")
        raise TooManyAttempts(wait)
    try:
        dob: date | None = date.fromisoformat(date_of_birth.strip())
    except ValueError:
        dob = None
    device = _device(request, web)

    def confirm() -> tuple[str, DownloadLink | None]:
        outcome, link = links.open_download(
            session,
            link_id,
            now=now,
            client=client[:64],
            device=token_hash(device[0]),
            date_of_birth=dob,
            answered=True,
            trusted_for=timedelta(hours=web.download_device_hours),
        )
        if outcome in links.SERVED:
            throttle.succeeded(
                session,
                forget=tuple(b for b in buckets if b.startswith("download:link:")),
                give_back=(f"download:ip:{client}",),
            )
        elif outcome == "dob_wrong":
            security_log.add(
                session,
                Action.DOWNLOAD,
                "failed",
                client=client,
                detail={"reason": "date_of_birth", "request_id": link.request_id}
                if link
                else {"reason": "date_of_birth"},
            )
        return outcome, link

    outcome, link = await run_in_threadpool(confirm)
    log.info("download.confirmed", link_id=link.id if link else None, outcome=outcome)
    return await _answer(request, ctx, outcome, link, device)
