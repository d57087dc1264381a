"""Requesters' download links: serve one request's released records, record every access.

No sign-in: the signed token is the credential. A link that was altered, expired or revoked
gets a plain page saying so (and how to get a new one); every use, served or refused, is an
access event in `download_access_events`. Links are throttled per client address (app/throttle.py):
a few wrong or expired ones, then a growing wait (429 with Retry-After, a security event).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from activities.channels import links
from app import security_log, throttle
from app.auth import ctx_of
from app.context import AppContext, TooManyAttempts
from app.render import render
from app.routes.session import client_address
from app.security import opaque
from app.security_log import Action
from store.db import session_scope

router = APIRouter(tags=["download"], include_in_schema=False)
log = structlog.get_logger(__name__)

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


def _admit(ctx: AppContext, bucket: str, client: str) -> int | None:
    """Take this attempt's place in the client address's bucket before the link is checked
    (wrong or expired links: a few free, then a growing wait); seconds to wait, or None."""
    web = ctx.web
    policy = throttle.Policy(
        web.download_max_failures,
        timedelta(minutes=web.login_window_minutes),
        base_seconds=web.throttle_base_delay_seconds,
        cap_seconds=float(web.throttle_max_delay_seconds),
    )
    now = datetime.now(UTC)
    with session_scope(ctx.db()) as session:
        wait = throttle.admit(session, {bucket: policy}, now)
        if wait is not None:
            security_log.add(
                session,
                Action.DOWNLOAD,
                "throttled",
                client=client,
                detail={"retry_after": wait},
            )
    return wait


def _give_back(ctx: AppContext, bucket: str) -> None:
    """A link that served its records does not count against the address."""
    with session_scope(ctx.db()) as session:
        throttle.succeeded(session, give_back=(bucket,))


@router.get("/download/{token}")
async def download(request: Request, token: str) -> Response:
    """The records behind a valid link, or a page saying why not."""
    ctx = ctx_of(request)
    client = opaque(client_address(request))
    bucket = f"download:ip:{client}"
    wait = await run_in_threadpool(_admit, ctx, bucket, client)
    if wait is not None:
        log.info("download.throttled", retry_after=wait)
        raise TooManyAttempts(wait)
    signer = links.LinkSigner(ctx.settings.link_secret)
    link_id = signer.link_id(token)
    outcome, link = await run_in_threadpool(
        links.open_link,
        ctx.db(),
        link_id,
        now=datetime.now(UTC),
        client=client[:64],
    )
    if outcome == "served":
        await run_in_threadpool(_give_back, ctx, bucket)
    log.info("download.accessed", link_id=link.id if link else None, outcome=outcome)
    if outcome == "served" and link is not None and Path(link.package_path).exists():
        suffix = ".zip" if link.content_type == "application/zip" else ".pdf"
        return FileResponse(
            link.package_path,
            media_type=link.content_type,
            filename=f"records{suffix}",
        )
    code, title, message = REFUSED.get(outcome, REFUSED["invalid"])
    return await run_in_threadpool(
        render, request, "error.html", {"title": title, "message": message}, status_code=code
    )
