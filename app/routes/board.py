"""The supervisors' board: counts by site and specialist, the lists behind them, aging chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.auth import Signed, ctx_of, need
from app.board import aging_svg
from app.deps import SessionDep
from app.render import render
from app.roles import Can
from domain.types import Site
from store import board
from store.staff import usernames

router = APIRouter(tags=["board"], include_in_schema=False)


@router.get("/board", response_class=HTMLResponse)
def board_page(
    request: Request, session: SessionDep, signed: Annotated[Signed, Depends(need(Can.BOARD))]
) -> Response:
    ctx = ctx_of(request)
    web = ctx.web
    now = datetime.now(UTC)
    counts = board.board_counts(
        session,
        signed.account,
        now,
        due_soon_days=web.due_soon_days,
        risk_business_days=web.legal_risk_business_days,
        claim_timeout=timedelta(minutes=web.claim_timeout_minutes),
    )
    lists = board.board_lists(
        session,
        signed.account,
        now,
        due_soon_days=web.due_soon_days,
        risk_business_days=web.legal_risk_business_days,
    )
    history = board.breach_history(session, signed.account, now)
    names = usernames(session, [k for k in counts.specialists if k])
    sites = [s.value for s in Site if signed.account.covers(s.value)]
    batches = board.batch_rows(session, sites, now, ctx.settings.batch_time)
    partial = request.headers.get("x-partial") == "board"
    return render(
        request,
        "board_body.html" if partial else "board.html",
        {
            "b": counts,
            "lists": lists,
            "history": history,
            "names": names,
            "columns": board.COLUMNS,
            "labels": board.LABELS,
            "sites": sites,
            "batches": batches,
            "chart": Markup(aging_svg(counts.aging)),  # built from numbers, text escaped
            "now": now,
            "refresh": web.board_refresh_seconds,
            "due_soon_days": web.due_soon_days,
            "risk_days": web.legal_risk_business_days,
        },
    )
