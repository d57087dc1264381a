"""The specialists' queue, "Next request", and bulk claim and reassign of ticked rows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth import Signed, ctx_of, need, set_flash
from app.deps import SessionDep
from app.render import render
from app.roles import Can, can, teams_of
from app.routes.requests import REQUEST_ID_PATTERN, _load, may_take, reassign_choices
from domain.types import TERMINAL_STATUSES, Channel, RequestKind, Site
from store import queue, staff
from store.models import RecordRequest
from store.queue import DUE_WINDOWS, QueueFilter

router = APIRouter(tags=["queue"], include_in_schema=False)
log = structlog.get_logger(__name__)

KINDS = [k.value for k in RequestKind if k != RequestKind.OUTSIDE_RECORDS]
#: The most requests one bulk claim or reassign may name (a page of the queue, at most).
MAX_BULK = 100
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
_CLOSED = frozenset(s.value for s in TERMINAL_STATUSES)


def _choice(value: str | None, allowed: list[str] | tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def queue_filter(
    kind: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    due: str | None = None,
    site: str | None = None,
    claim: str | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> QueueFilter:
    """The queue's filters from the query string (the page's, and the bulk forms' own, so a
    bulk action comes back to the view it was sent from); unknown values are dropped. The site
    is narrowed to the account's sites by the route."""
    return QueueFilter(
        kind=_choice(kind, KINDS),
        status=_choice(status, queue.FILTER_STATUSES),
        channel=_choice(channel, [c.value for c in Channel]),
        due=_choice(due, list(DUE_WINDOWS)),
        site=_choice(site, [s.value for s in Site]),
        claim=_choice(claim, ["mine", "unclaimed"]),
        page=page,
    )


Filter = Annotated[QueueFilter, Depends(queue_filter)]


@dataclass
class BulkOutcome:
    """What a bulk form gets back on the queue page when it is not simply done: what was done,
    problems with the whole form, a refusal per row (by request id), the rows still ticked,
    the person chosen and a message for the choice of person."""

    done: str | None = None
    problems: list[str] = field(default_factory=list)
    rows: dict[str, str] = field(default_factory=dict)
    picked: set[str] = field(default_factory=set)
    to: str = ""
    to_error: str | None = None


def _show(
    request: Request,
    session: Session,
    signed: Signed,
    f: QueueFilter,
    outcome: BulkOutcome | None = None,
    status_code: int = 200,
) -> Response:
    """The queue page; after a bulk form that was not simply done, with what it says."""
    ctx = ctx_of(request)
    account = signed.account
    if f.site is not None and not account.covers(f.site):
        f.site = None
    now = datetime.now(UTC)
    timeout = timedelta(minutes=ctx.web.claim_timeout_minutes)
    rows = queue.list_queue(session, account, f, now, timeout, ctx.web.queue_page_size)
    counts = queue.queue_counts(session, account, f, now, timeout)
    may_reassign = can(account.role, Can.REASSIGN)
    people = reassign_choices(session, {(r.team, r.site) for r in rows}) if may_reassign else []
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
            "may_reassign": may_reassign,
            "people": people,
            "bulk": outcome or BulkOutcome(),
            "max_bulk": MAX_BULK,
        },
        status_code=status_code,
    )


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.WORK_QUEUE))],
    f: Filter,
) -> Response:
    """One page of the account's queue, most urgent first, with its counts and bulk forms."""
    return _show(request, session, signed, f)


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


# ---- bulk actions on ticked rows -----------------------------------------------------------

#: The rows ticked one by one; every row shown on the page (hidden fields) and the "select all
#: on this page" box, which takes them all without JavaScript.
Ticked = Annotated[list[str] | None, Form()]
AllOnPage = Annotated[str, Form(max_length=1)]


def _picked(ids: list[str] | None, page_ids: list[str] | None, all_on_page: str) -> list[str]:
    """The requests the form names, each once, in a fixed order (rows are locked in it, so two
    bulk claims at once never wait on each other crosswise)."""
    chosen = list(ids or [])
    if all_on_page:
        chosen += page_ids or []
    return sorted(set(chosen))


def _form_problem(picked: list[str]) -> str | None:
    """Why the form cannot be worked at all (then nothing is done), or None."""
    if any(not _REQUEST_ID.match(rid) for rid in picked):
        return "One of the ticked rows is not a request of this queue. Reload the page."
    if len(picked) > MAX_BULK:
        return (
            f"Tick at most {MAX_BULK} requests at a time: {len(picked)} were ticked. "
            "Nothing was changed."
        )
    return None


def _back(f: QueueFilter) -> RedirectResponse:
    return RedirectResponse(f"/queue{f.query_string()}", status_code=303)


def _plural(n: int) -> str:
    return f"{n} request" if n == 1 else f"{n} requests"


@router.post("/queue/claim", response_class=HTMLResponse)
def bulk_claim(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.WORK_QUEUE))],
    f: Filter,
    ids: Ticked = None,
    page_ids: Ticked = None,
    all_on_page: AllOnPage = "",
) -> Response:
    """Claim every ticked request for oneself, as "claim" on a request's page does for one.

    A request the account may not work refuses the whole form (403, nothing claimed); one that
    someone else claimed since the page was loaded is left to them and counted."""
    ctx = ctx_of(request)
    account = signed.account
    picked = _picked(ids, page_ids, all_on_page)
    problem = _form_problem(picked)
    if problem:
        outcome = BulkOutcome(problems=[problem], picked=set(picked))
        return _show(request, session, signed, f, outcome, status_code=422)
    if not picked:
        set_flash(session, signed, "Tick the requests to claim first.", "error")
        return _back(f)
    rows = [_load(session, account, rid) for rid in picked]  # 403 before anything is claimed
    now = datetime.now(UTC)
    timeout = timedelta(minutes=ctx.web.claim_timeout_minutes)
    claimed: list[str] = []
    taken: list[str] = []
    closed: list[str] = []
    for row in rows:
        if row.status in _CLOSED:
            closed.append(row.id)
        elif queue.claim(session, account, row.id, now, timeout):
            claimed.append(row.id)
        else:
            taken.append(row.id)
    log.info("queue.bulk_claimed", user_id=account.id, claimed=claimed, taken=taken, closed=closed)
    message = f"Claimed {_plural(len(claimed))}."
    if taken:
        message += f" {_plural(len(taken))} already taken by someone else, left to them."
    if closed:
        message += f" {_plural(len(closed))} closed, not claimed."
    kind = "ok" if not taken and not closed else ("info" if claimed else "error")
    set_flash(session, signed, message, kind)
    return _back(f)


def _refusal(row: RecordRequest, username: str, team_ok: bool) -> str:
    """Why one row cannot go to the chosen person (its tracking number, no PHI)."""
    why = (
        f"does not cover {row.site.capitalize()}"
        if team_ok
        else f"does not work {row.team.replace('_', ' ')} requests"
    )
    return f"{row.tracking_number}: not reassigned, {username} {why}."


@router.post("/queue/reassign", response_class=HTMLResponse)
def bulk_reassign(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.REASSIGN))],
    f: Filter,
    ids: Ticked = None,
    page_ids: Ticked = None,
    all_on_page: AllOnPage = "",
    to: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Give every ticked request to one staff member, as "reassign" on a request's page does.

    Each row the person may take is reassigned; each they may not (another site or team, or
    closed) is refused by its tracking number next to its row, and the page says both."""
    account = signed.account
    picked = _picked(ids, page_ids, all_on_page)
    problem = _form_problem(picked)
    if problem:
        outcome = BulkOutcome(problems=[problem], picked=set(picked), to=to)
        return _show(request, session, signed, f, outcome, status_code=422)
    if not picked:
        set_flash(session, signed, "Tick the requests to reassign first.", "error")
        return _back(f)
    rows = [_load(session, account, rid) for rid in picked]  # 403 before anything moves
    target = staff.user(session, to) if to else None
    if target is None or not any(may_take(target, r.team, r.site) for r in rows):
        why = (
            "Choose who to give the ticked requests to."
            if not to
            else "That person cannot be given any of the ticked requests (team or site)."
        )
        outcome = BulkOutcome(problems=[why], picked=set(picked), to=to, to_error=why)
        return _show(request, session, signed, f, outcome, status_code=422)
    now = datetime.now(UTC)
    moved: list[str] = []
    refused: dict[str, str] = {}
    for row in rows:
        if not may_take(target, row.team, row.site):
            refused[row.id] = _refusal(row, target.username, row.team in teams_of(target.role))
        elif row.status in _CLOSED or not queue.reassign(session, account, row.id, target, now):
            refused[row.id] = f"{row.tracking_number}: not reassigned, the request is closed."
        else:
            moved.append(row.id)
    log.info(
        "queue.bulk_reassigned",
        user_id=account.id,
        to=target.id,
        moved=moved,
        refused=sorted(refused),
    )
    done = f"Reassigned {_plural(len(moved))} to {target.username}."
    if not refused:
        set_flash(session, signed, done)
        return _back(f)
    outcome = BulkOutcome(
        done=f"{done} {_plural(len(refused))} not reassigned:",
        rows=refused,
        picked=set(refused),
        to=target.id,
    )
    return _show(request, session, signed, f, outcome, status_code=422)
