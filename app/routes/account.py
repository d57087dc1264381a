"""A person's own account: setting their password through a one-time enrolment link, and
changing it (the current one first). Admins never set or see anyone's password.

`/enrol/<token>` is public (the link is the credential: only its hash is stored, it expires and
works once, wrong links are throttled per client address, and the path is redacted from every
log, config/redact.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import security_log, sessions, throttle
from app.accounts import (
    AccountError,
    EnrolmentInvalid,
    change_password,
    complete_enrolment,
    enrolment_username,
)
from app.auth import Signed, ctx_of, set_flash
from app.context import AppContext, TooManyAttempts
from app.deps import CurrentStaff, SessionDep
from app.passwords import MIN_LENGTH
from app.render import render
from app.security_log import Action

router = APIRouter(tags=["account"], include_in_schema=False)
log = structlog.get_logger(__name__)

LINK_GONE = (
    "This link does not work any more: it was used, it expired, or it was replaced. "
    "Ask an administrator for a new one."
)


def _admit(session: Session, ctx: AppContext, request: Request) -> None:
    """Each use of an enrolment link takes its place in the client address's bucket first
    (committed: it counts, and a refusal is kept, whatever comes next)."""
    web = ctx.web
    client = security_log.client_of(request)
    policy = throttle.Policy(
        web.download_max_failures,
        timedelta(minutes=web.login_window_minutes),
        base_seconds=web.throttle_base_delay_seconds,
        cap_seconds=float(web.throttle_max_delay_seconds),
    )
    wait = throttle.admit(session, {f"enrol:ip:{client}": policy}, datetime.now(UTC))
    if wait is not None:
        security_log.add(
            session,
            Action.ACCOUNT_PASSWORD,
            "throttled",
            client=client,
            detail={"how": "enrolment", "retry_after": wait},
        )
    session.commit()
    if wait is not None:
        raise TooManyAttempts(wait)


def _give_back(session: Session, request: Request) -> None:
    throttle.succeeded(session, give_back=(f"enrol:ip:{security_log.client_of(request)}",))


def _enrol_page(
    request: Request, token: str, username: str | None, error: str | None = None, code: int = 200
) -> Response:
    return render(
        request,
        "enrol.html",
        {"token": token, "username": username, "error": error, "min_length": MIN_LENGTH},
        status_code=code,
    )


@router.get("/enrol/{token}", response_class=HTMLResponse)
def enrol_page(request: Request, token: str, session: SessionDep) -> Response:
    ctx = ctx_of(request)
    _admit(session, ctx, request)
    username = enrolment_username(ctx.db(), token)
    if username is None:
        security_log.add(
            session,
            Action.ACCOUNT_PASSWORD,
            "refused",
            client=security_log.client_of(request),
            detail={"how": "enrolment", "reason": "link_invalid"},
        )
        return render(
            request,
            "error.html",
            {"title": "Link not valid", "message": LINK_GONE},
            status_code=404,
        )
    _give_back(session, request)
    return _enrol_page(request, token, username)


@router.post("/enrol/{token}", response_class=HTMLResponse)
def enrol(
    request: Request,
    token: str,
    session: SessionDep,
    password: Annotated[str, Form(max_length=256)],
    confirm: Annotated[str, Form(max_length=256)],
) -> Response:
    """Set the password (app.accounts.complete_enrolment, a transaction of its own, as when
    the demo enrols its accounts)."""
    ctx = ctx_of(request)
    _admit(session, ctx, request)
    username = enrolment_username(ctx.db(), token)
    if username is not None and password != confirm:
        _give_back(session, request)
        return _enrol_page(request, token, username, "The two passwords are not the same.", 422)
    try:
        user_id = complete_enrolment(
            ctx.db(), token, password, client=security_log.client_of(request)
        )
    except EnrolmentInvalid:
        return render(
            request,
            "error.html",
            {"title": "Link not valid", "message": LINK_GONE},
            status_code=404,
        )
    except AccountError as error:
        _give_back(session, request)
        return _enrol_page(request, token, username, str(error), 422)
    _give_back(session, request)
    log.info("account.enrolled", user_id=user_id)
    return RedirectResponse("/login?enrolled=1", status_code=303)


def _account_page(
    request: Request, signed: Signed, error: str | None = None, code: int = 200
) -> Response:
    return render(
        request,
        "account.html",
        {"error": error, "min_length": MIN_LENGTH},
        status_code=code,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, signed: CurrentStaff) -> Response:
    return _account_page(request, signed)


@router.post("/account/password", response_class=HTMLResponse)
def new_password(
    request: Request,
    session: SessionDep,
    signed: CurrentStaff,
    current: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=256)],
    confirm: Annotated[str, Form(max_length=256)],
) -> Response:
    ctx = ctx_of(request)
    if password != confirm:
        return _account_page(request, signed, "The two new passwords are not the same.", 422)
    try:
        change_password(
            ctx.db(),
            signed.account.id,
            current,
            password,
            keep_session=signed.token_hash,
            client=security_log.client_of(request),
        )
    except AccountError as error:
        return _account_page(request, signed, str(error), 422)
    log.info("account.password_changed", user_id=signed.account.id)
    set_flash(session, signed, "Password changed; your other sessions were signed out.")
    return RedirectResponse("/account", status_code=303)


SessionId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/account/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, session: SessionDep, signed: CurrentStaff) -> Response:
    """The person's own sessions that still work; this one marked, the others can be ended."""
    ctx = ctx_of(request)
    mine = sessions.list_sessions(
        session, signed.account.id, signed.token_hash, ctx.web.session_idle_minutes
    )
    return render(request, "sessions.html", {"sessions": mine})


@router.post("/account/sessions/{session_id}/end")
def end_session(
    request: Request, session_id: SessionId, session: SessionDep, signed: CurrentStaff
) -> Response:
    """End one of one's own other sessions (403 for anyone else's: app/sessions.py)."""
    outcome = sessions.end_own_session(
        session,
        signed.account.id,
        session_id,
        signed.token_hash,
        security_log.client_of(request),
    )
    message = {
        "ended": f"Session {session_id} ended: it is signed out.",
        "gone": f"Session {session_id} had already ended.",
        "current": "That is the session you are using now: use Sign out to end it.",
    }[outcome]
    log.info("account.session_end", user_id=signed.account.id, outcome=outcome)
    set_flash(session, signed, message, "ok" if outcome == "ended" else "error")
    return RedirectResponse("/account/sessions", status_code=303)


@router.post("/account/sessions/end-others")
def end_other_sessions(request: Request, session: SessionDep, signed: CurrentStaff) -> Response:
    """End every session of one's own account but this one."""
    ended = sessions.end_sessions(
        session,
        signed.account.id,
        by=signed.account.id,
        keep_hash=signed.token_hash,
        client=security_log.client_of(request),
        reason=sessions.BY_OWNER,
    )
    log.info("account.sessions_end", user_id=signed.account.id, ended=ended)
    message = (
        f"{ended} other session{'s' if ended != 1 else ''} ended: signed out."
        if ended
        else "You had no other sessions."
    )
    set_flash(session, signed, message)
    return RedirectResponse("/account/sessions", status_code=303)
