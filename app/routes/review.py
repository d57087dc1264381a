"""Submissions refused at intake, kept for staff review: listed for the staff of their site and
team, corrected and submitted with their original receipt time (services.intake.resubmit)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.accounts import Account
from app.auth import Signed, ctx_of, need, set_flash
from app.context import Forbidden, NotFound
from app.deps import SessionDep, commit
from app.plain import plain_issues
from app.render import render
from app.roles import Can, teams_of
from domain.errors import FieldIssue, issue
from domain.kinds.common import Team
from domain.kinds.intake import CASE_KINDS
from domain.text import parse_json
from domain.types import RequestKind, Site
from services import intake
from store import intake as intake_rows
from store.audit import audit
from store.models import IntakeSubmission

router = APIRouter(tags=["review"], include_in_schema=False)
log = structlog.get_logger(__name__)

SubmissionId = Annotated[str, Path(pattern=r"^[0-9A-Z]{26}$")]
#: Fields the reviewer does not edit: the receipt time is the original's, always.
_FIXED = ("received_at",)


def _site_of(payload: Any) -> str | None:
    site = payload.get("site") if isinstance(payload, dict) else None
    return site if site in {s.value for s in Site} else None


def _team_of(payload: Any) -> str:
    raw = payload.get("kind") if isinstance(payload, dict) else None
    try:
        kind = RequestKind(str(raw))
    except ValueError:
        return str(Team.ROI)  # not yet a kind: the ROI team triages intake
    return str(CASE_KINDS[kind][2]) if kind in CASE_KINDS else str(Team.ROI)


def _visible(account: Account, row: IntakeSubmission) -> bool:
    """The account's team, and its site (one without a readable site: all-site staff only)."""
    site = _site_of(row.payload)
    covered = account.sites is None if site is None else account.covers(site)
    return covered and _team_of(row.payload) in teams_of(account.role)


def _kept_in(session: Session, account: Account) -> list[IntakeSubmission]:
    """The submissions kept for review that the account may see, oldest first."""
    return [r for r in intake_rows.kept_for_review(session) if _visible(account, r)]


def _one(session: Session, account: Account, submission_id: str) -> IntakeSubmission:
    row = intake_rows.submission(session, submission_id)
    if row is None:
        raise NotFound()
    session.expunge(row)
    if not _visible(account, row):
        raise Forbidden("This submission belongs to another site or team.")
    return row


@router.get("/intake/review", response_class=HTMLResponse)
def review_list(
    request: Request, session: SessionDep, signed: Annotated[Signed, Depends(need(Can.ACT))]
) -> Response:
    """Every submission kept for review at the account's sites and teams, oldest first."""
    rows = _kept_in(session, signed.account)
    log.info("intake.review_listed", user_id=signed.account.id, count=len(rows))
    items = [
        {
            "row": r,
            "site": _site_of(r.payload),
            "kind": r.payload.get("kind") if isinstance(r.payload, dict) else None,
            "issues": plain_issues([FieldIssue(**e) for e in r.errors or []]),
        }
        for r in rows
    ]
    return render(request, "review.html", {"items": items})


def _editable(payload: Any) -> str:
    body = (
        {k: v for k, v in payload.items() if k not in _FIXED} if isinstance(payload, dict) else {}
    )
    if isinstance(payload, dict) and "unparsed" in payload and len(payload) == 1:
        return str(payload["unparsed"])
    return json.dumps(body, indent=2, ensure_ascii=False)


def _detail(
    request: Request,
    row: IntakeSubmission,
    *,
    text: str | None = None,
    problems: list[FieldIssue] | None = None,
    status_code: int = 200,
) -> Response:
    original = plain_issues([FieldIssue(**e) for e in row.errors or []])
    return render(
        request,
        "review_one.html",
        {
            "row": row,
            "site": _site_of(row.payload),
            "text": _editable(row.payload) if text is None else text,
            "original": original,
            "problems": plain_issues(problems or []),
        },
        status_code=status_code,
    )


@router.get("/intake/review/{submission_id}", response_class=HTMLResponse)
def review_one(
    request: Request,
    submission_id: SubmissionId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.ACT))],
) -> Response:
    row = _one(session, signed.account, submission_id)
    log.info("intake.review_viewed", submission_id=row.id, user_id=signed.account.id)
    return _detail(request, row)


@router.post("/intake/review/{submission_id}", response_class=HTMLResponse)
async def review_submit(
    request: Request,
    submission_id: SubmissionId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.ACT))],
    submission: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Submit the corrected submission, received when the original was (services.intake
    stores and starts it in transactions of its own)."""
    ctx = ctx_of(request)
    row = await run_in_threadpool(_one, session, signed.account, submission_id)
    if row.outcome != "rejected":
        message = "This submission was already corrected."
        await run_in_threadpool(set_flash, session, signed, message, "error")
        return RedirectResponse("/intake/review", status_code=303)
    try:
        data = parse_json(submission)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        found = [issue("submission", "malformed_json", "")]
        return _detail(request, row, text=submission, problems=found, status_code=422)
    corrected = _visible_after(signed.account, data)
    if corrected is not None:
        return _detail(request, row, text=submission, problems=[corrected], status_code=422)
    await commit(session)  # no transaction waits on intake and the workflow service
    try:
        result = await intake.resubmit(
            submission_id,
            data,
            database_url=ctx.db(),
            client=await ctx.temporal(),
            task_queue=ctx.settings.task_queue,
        )
    except intake.CorrectionRefused as refused:
        await run_in_threadpool(set_flash, session, signed, str(refused), "error")
        return RedirectResponse("/intake/review", status_code=303)
    if not result.accepted and not result.redirected:
        log.info("intake.correction_refused", submission_id=submission_id)
        return _detail(request, row, text=submission, problems=result.errors, status_code=422)
    if result.request_id:
        await run_in_threadpool(
            lambda: audit(
                session,
                result.request_id or "",
                signed.account.id,
                "intake.corrected",
                datetime.now(UTC),
                submission=submission_id,
            )
        )
    log.info(
        "intake.corrected",
        submission_id=submission_id,
        request_id=result.request_id,
        user_id=signed.account.id,
    )
    message = (
        f"Submitted as {result.tracking_number}, received {row.received_at:%Y-%m-%d %H:%M} UTC."
        if result.accepted
        else "Not a records request: answered with where to send them."
    )
    await run_in_threadpool(set_flash, session, signed, message)
    return RedirectResponse("/intake/review", status_code=303)


def _visible_after(account: Account, data: dict[str, Any]) -> FieldIssue | None:
    """A correction may not move the submission to a site or team the account does not work."""
    site = _site_of(data)
    if site is not None and not account.covers(site):
        return issue("site", "site_not_allowed", "Your account does not cover that site.")
    if _team_of(data) not in teams_of(account.role):
        return issue("kind", "team_not_allowed", "That kind of request is another team's work.")
    return None
