"""The specialists' queue and "Next request"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth import Signed, ctx_of, need, set_flash
from app.deps import SessionDep
from app.render import render
from app.roles import Can, teams_of
from domain.types import Channel, RequestKind, Site
from store import queue
from store.queue import DUE_WINDOWS, QueueFilter

router = APIRouter(tags=["queue"], include_in_schema=False)
log = structlog.get_logger(__name__)

KINDS = [k.value for k in RequestKind if k != RequestKind.OUTSIDE_RECORDS]


def _choice(value: str | None, allowed: list[str] | tuple[str, ...]) -> str | None:
    return value if value in allowed else None


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.WORK_QUEUE))],
    kind: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    due: str | None = None,
    site: str | None = None,
    claim: str | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    ctx = ctx_of(request)
    account = signed.account
    f = QueueFilter(
        kind=_choice(kind, KINDS),
        status=_choice(status, queue.FILTER_STATUSES),
        channel=_choice(channel, [c.value for c in Channel]),
        due=_choice(due, list(DUE_WINDOWS)),
        site=_choice(site, account.site_list),
        claim=_choice(claim, ["mine", "unclaimed"]),
        page=page,
    )
    now = datetime.now(UTC)
    timeout = timedelta(minutes=ctx.web.claim_timeout_minutes)
    rows = queue.list_queue(session, account, f, now, timeout, ctx.web.queue_page_size)
    counts = queue.queue_counts(session, account, f, now, timeout)
    return render(
        request,
        "queue.html",
        {
            "rows": rows,
            "counts": counts,
            "f": f,
            "now": now,
            "kinds": KINDS,
            "statuses": queue.FILTER_STATUSES,
            "channels": [c.value for c in Channel],
            "windows": DUE_WINDOWS,
            "sites": [s.value for s in Site if account.covers(s.value)],
            "teams": sorted(teams_of(account.role)),
            "page_size": ctx.web.queue_page_size,
        },
    )


@router.post("/queue/next")
def take_next(
    request: Request, session: SessionDep, signed: Annotated[Signed, Depends(need(Can.WORK_QUEUE))]
) -> Response:
    """Claim the most urgent unclaimed request and open it."""
    ctx = ctx_of(request)
    now = datetime.now(UTC)
    claimed = queue.claim_next(
        session,
        signed.account,
        now,
        expire_after=timedelta(minutes=ctx.web.claim_timeout_minutes),
        expire_every=15,
    )
    if claimed is None:
        set_flash(session, signed, "Nothing is waiting in your queue right now.", "info")
        return RedirectResponse("/queue", status_code=303)
    log.info("queue.claimed_next", request_id=claimed, user_id=signed.account.id)
    return RedirectResponse(f"/requests/{claimed}", status_code=303)
