"""Requesters' download links: serve one request's released records, record every access.

No sign-in: the signed token is the credential. A link that was altered, expired or revoked
gets a plain page saying so (and how to get a new one); every use, served or refused, is an
access event in `download_access_events`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from activities.channels import links
from app.auth import ctx_of
from app.render import render
from app.routes.session import client_address
from app.security import opaque

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


@router.get("/download/{token}")
async def download(request: Request, token: str) -> Response:
    """The records behind a valid link, or a page saying why not."""
    ctx = ctx_of(request)
    signer = links.LinkSigner(ctx.settings.link_secret)
    link_id = signer.link_id(token)
    outcome, link = await run_in_threadpool(
        links.open_link,
        ctx.db(),
        link_id,
        now=datetime.now(UTC),
        client=opaque(client_address(request))[:64],
    )
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
