"""Sign in, sign out, and the home page (each role's landing page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import security_log, throttle
from app.accounts import check_password
from app.auth import (
    clear_session_cookie,
    close_session,
    ctx_of,
    open_session,
    optional_staff,
    safe_next,
    session_token,
    set_session_cookie,
)
from app.context import TooManyAttempts
from app.deps import CurrentStaff, SessionDep
from app.render import render
from app.roles import Can, can
from app.security import opaque
from store import staff

router = APIRouter(tags=["session"], include_in_schema=False)
log = structlog.get_logger(__name__)


def landing(role: str) -> str:
    if can(role, Can.WORK_QUEUE) and not can(role, Can.BOARD):
        return "/queue"
    if can(role, Can.BOARD):
        return "/board"
    if can(role, Can.MANAGE_USERS):
        return "/admin/users"
    if can(role, Can.OVERSIGHT):
        return "/privacy/security-events"
    return "/status"


@router.get("/")
def home(signed: CurrentStaff) -> RedirectResponse:
    return RedirectResponse(landing(signed.account.role), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, enrolled: str | None = None) -> Response:
    signed = optional_staff(request)
    if signed is not None:
        return RedirectResponse(safe_next(next) if next else landing(signed.account.role), 303)
    context = {"next": safe_next(next), "error": None, "enrolled": enrolled == "1"}
    return render(request, "login.html", context)


def client_address(request: Request) -> str:
    """The client's address (X-Forwarded-For only from ROI_TRUSTED_PROXIES; app/throttle.py)."""
    return throttle.client_address(request, ctx_of(request).settings.trusted_proxies)


def _account_id(session: Session, username: str) -> str | None:
    """The id of the account with this username (None: no such account)."""
    return staff.user_id_for(session, username.strip().lower())


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    ctx = ctx_of(request)
    web = ctx.web
    now = datetime.now(UTC)
    window = timedelta(minutes=web.login_window_minutes)
    delays = {
        "base_seconds": web.throttle_base_delay_seconds,
        "cap_seconds": float(web.throttle_max_delay_seconds),
    }
    user_bucket = throttle.login_user_bucket(username)
    ip_bucket = f"login:ip:{opaque(client_address(request))}"
    client = security_log.client_of(request)
    # 1. Take this attempt's place in both buckets (row locks, one transaction) before the
    #    password is looked at: parallel guesses are counted one by one, never checked past
    #    the allowance (committed: the locks go, the count stays). No lockout: after it, a
    #    growing wait.
    wait = throttle.admit(
        session,
        {
            user_bucket: throttle.Policy(web.login_max_failures, window, **delays),
            ip_bucket: throttle.Policy(web.login_address_max_failures, window, **delays),
        },
        now,
    )
    if wait is not None:
        security_log.add(
            session,
            security_log.Action.LOGIN,
            "throttled",
            actor=_account_id(session, username),
            client=client,
            detail={"retry_after": wait},
        )
    session.commit()
    if wait is not None:
        log.info("web.login_throttled", retry_after=wait)
        raise TooManyAttempts(wait)
    # 2. Check the password (the same cost whether or not the account exists).
    user = check_password(session, username, password)
    if user is None:
        account = _account_id(session, username)
        security_log.add(
            session,
            security_log.Action.LOGIN,
            "failed",
            actor=account,  # an account's opaque id; a name that matches none is not kept
            client=client,
            detail={"reason": "wrong_password" if account else "unknown_account"},
        )
    else:
        throttle.succeeded(session, forget=(user_bucket,), give_back=(ip_bucket,))
        user_id = user.id
        security_log.add(session, security_log.Action.LOGIN, "ok", actor=user_id, client=client)
    if user is None:
        log.info("web.login_failed")
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "error": "That username and password do not match."},
            status_code=401,
        )
    # never reuse a session id: a session this browser had ends here
    close_session(session, session_token(request), reason="replaced", client=client)
    # the password alone opens only the second factor's page (app/routes/mfa.py)
    token = open_session(
        session,
        user_id,
        web,
        pending=True,
        client=client,
        agent=request.headers.get("user-agent"),
    )
    log.info("web.login_password_ok", user_id=user_id)
    target = safe_next(next)
    response = RedirectResponse(
        f"/login/mfa?{urlencode({'next': target})}" if target != "/" else "/login/mfa",
        status_code=303,
    )
    set_session_cookie(response, token, web)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, signed: CurrentStaff) -> Response:
    close_session(
        session,
        session_token(request),
        reason="signed_out",
        client=security_log.client_of(request),
    )
    log.info("web.logout", user_id=signed.account.id)
    request.state.signed = None
    response = render(request, "login.html", {"next": "/", "error": None, "signed_out": True})
    clear_session_cookie(response, ctx_of(request).web)
    return response


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
