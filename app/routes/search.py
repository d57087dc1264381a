"""Finding a request while the caller waits: the header's search box and its results page.

Staff who may open requests (Can.VIEW_REQUEST) search their own teams' requests at their own
sites, open or closed, as the queue scopes them. Every search, refused ones included, is an
append-only audit row with what was typed (store.search.record_search); the log line carries
the kind of query, the count and the time only, never the query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app.auth import Signed, need
from app.deps import SessionDep
from app.render import render
from app.roles import Can, teams_of
from app.security_log import client_of
from domain.calendar import local_date
from domain.standing import ClockReading, read_clock
from domain.types import Site
from store import search

router = APIRouter(tags=["search"], include_in_schema=False)
log = structlog.get_logger(__name__)

PAGE_SIZE = 50


@dataclass(frozen=True)
class Found:
    """A hit with its clock read as the request page reads it (open, parked, or closed in time
    or N calendar days late)."""

    hit: search.SearchHit
    clock: ClockReading
    received_on: date  # the site's local date


def _reading(hit: search.SearchHit, now: datetime) -> ClockReading:
    return read_clock(
        hit.site,
        hit.status,
        due_date=hit.due_date,
        due_at=hit.due_at,
        target_due_date=None,
        closed_at=hit.closed_at,
        now=now,
        breached_flag=hit.breached,
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
    q: Annotated[str | None, Query(max_length=1000)] = None,
    kind: Annotated[str, Query(max_length=16)] = "auto",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The search form, and its results when a query was given."""
    return _answer(request, signed, session, q, kind, page)


def _answer(
    request: Request, signed: Signed, session: Session, q: str | None, kind: str, page: int
) -> Response:
    account = signed.account
    kind = kind if kind in search.KIND_CHOICES else "auto"
    context: dict[str, object] = {
        "q": q or "",
        "kind": kind,
        "kinds": search.KIND_CHOICES,
        "error": None,
        "results": None,
        "found": [],
        "searched_as": None,
    }
    if q is None:  # the empty form: nothing searched, nothing to audit
        return render(request, "search.html", context)
    started = time.perf_counter()
    now = datetime.now(UTC)
    query: search.SearchQuery | None = None
    results: search.SearchResults | None = None
    try:
        query = search.parse_query(q, kind)
    except search.QueryRefused as refused:
        context["error"] = refused.message
    if query is not None:
        teams, sites = teams_of(account.role), account.sites
        for attempt in (query, query.fallback):
            if attempt is None:
                break
            query = attempt
            results = search.search_requests(
                session, query, teams=teams, sites=sites, page=page, page_size=PAGE_SIZE
            )
            if results.total:
                break
        assert results is not None
        context["results"] = results
        context["found"] = [
            Found(h, _reading(h, now), local_date(Site(h.site), h.received_at))
            for h in results.hits
        ]
        context["searched_as"] = search.SEARCHED_AS[query.kind]
    kind_done = query.kind.value if query else "refused"
    total = results.total if results else 0
    search.record_search(
        session,
        actor=account.id,
        kind=kind_done,
        query_text=q,
        results=total,
        page=page,
        request_ids=[h.id for h in results.hits] if results else (),
        client=client_of(request),
        at=now,
    )
    log.info(
        "search.done",
        user_id=account.id,
        kind=kind_done,
        results=total,
        page=page,
        ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return render(request, "search.html", context, status_code=200 if query else 422)
