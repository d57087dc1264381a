"""A site's mail, CD and FedEx batch from the web app (supervisors, for their sites): what the
next run takes (services.batch.preview, as `roi batch preview`), the last runs with their
results, and a run started now (services.schedule.start_batch_now, as
`roi batch run`). Starting a run is a security event (`batch.run`) and a `batch.run_started`
row in the audit trail of every request queued for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from temporalio.exceptions import WorkflowAlreadyStartedError

from app import security_log
from app.auth import Signed, ctx_of, need, set_flash
from app.context import Forbidden, Unavailable
from app.deps import SessionDep, commit
from app.render import render
from app.roles import Can
from domain.types import Site
from services import batch as batch_service
from services.schedule import start_batch_now
from store import batch as batch_rows
from store.audit import audit

router = APIRouter(tags=["board"], include_in_schema=False)
log = structlog.get_logger(__name__)

SiteName = Annotated[Site, Path()]
RECENT_RUNS = 5


def _covered(signed: Signed, site: Site) -> None:
    if not signed.account.covers(site.value):
        raise Forbidden("Your account does not cover this site.", reason="site")


@router.get("/board/batch/{site}", response_class=HTMLResponse)
def batch_page(
    request: Request,
    site: SiteName,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.BOARD))],
) -> Response:
    _covered(signed, site)
    ctx = ctx_of(request)
    now = datetime.now(UTC)
    (found,) = batch_service.preview(session, [site], now, ctx.settings.batch_time)
    runs = batch_rows.recent_runs(session, site.value, RECENT_RUNS)
    return render(
        request,
        "batch.html",
        {"site": site.value, "preview": found, "runs": runs, "now": now},
    )


@router.post("/board/batch/{site}/run")
async def run_batch(
    request: Request,
    site: SiteName,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.BOARD))],
) -> Response:
    """Start the site's batch now (any day), as `roi batch run --no-wait` does."""
    _covered(signed, site)
    ctx = ctx_of(request)
    client = await ctx.temporal()
    if client is None:
        raise Unavailable("workflow service")
    now = datetime.now(UTC)
    (found,) = await run_in_threadpool(
        batch_service.preview, session, [site], now, ctx.settings.batch_time
    )
    await commit(session)  # no transaction waits on the workflow service
    try:
        handle = await start_batch_now(client, ctx.settings.task_queue, site)
    except WorkflowAlreadyStartedError:
        message = "A run of this site's batch was started a moment ago; see below."
        await run_in_threadpool(set_flash, session, signed, message, "error")
        return RedirectResponse(f"/board/batch/{site.value}", status_code=303)
    batch_id = handle.id

    def record() -> None:
        security_log.add(
            session,
            security_log.Action.BATCH_RUN,
            "ok",
            actor=signed.account.id,
            client=security_log.client_of(request),
            detail={"site": site.value, "batch": batch_id, "queued": len(found.items)},
        )
        for item in found.items:
            audit(
                session,
                item.request_id,
                signed.account.id,
                "batch.run_started",
                now,
                batch=batch_id,
                site=site.value,
            )
        message = f"Batch run {batch_id} started with {len(found.items)} queued."
        set_flash(session, signed, message)

    await run_in_threadpool(record)
    log.info("batch.run_started", site=site.value, batch=batch_id, by=signed.account.id)
    return RedirectResponse(f"/board/batch/{site.value}", status_code=303)
