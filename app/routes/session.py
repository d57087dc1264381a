"""Sign in, sign out, and the home page (each role's landing page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import throttle
from app.accounts import check_password
from app.auth import (
    SESSION_COOKIE,
    Signed,
    close_session,
    ctx_of,
    open_session,
    optional_staff,
    safe_next,
    staff,
)
from app.context import TooManyAttempts
from app.render import render
from app.roles import Can, can
from app.security import opaque
from store.db import session_scope

router = APIRouter(tags=["session"], include_in_schema=False)
log = structlog.get_logger(__name__)


def landing(role: str) -> str:
    if can(role, Can.WORK_QUEUE) and not can(role, Can.BOARD):
        return "/queue"
    if can(role, Can.BOARD):
        return "/board"
    if can(role, Can.MANAGE_USERS):
        return "/admin/users"
    return "/status"


@router.get("/")
def home(signed: Annotated[Signed, Depends(staff)]) -> RedirectResponse:
    return RedirectResponse(landing(signed.account.role), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    signed = optional_staff(request)
    if signed is not None:
        return RedirectResponse(safe_next(next) if next else landing(signed.account.role), 303)
    return render(request, "login.html", {"next": safe_next(next), "error": None})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    ctx = ctx_of(request)
    web = ctx.web
    now = datetime.now(UTC)
    window = timedelta(minutes=web.login_window_minutes)
    user_bucket = f"login:user:{opaque(username.strip().lower())}"
    ip_bucket = f"login:ip:{opaque(client_address(request))}"
    with session_scope(ctx.db()) as session:
        limits = {user_bucket: web.login_max_failures, ip_bucket: web.login_max_failures * 4}
        if throttle.too_many(session, limits, now, window):
            log.info("web.login_throttled")
            raise TooManyAttempts(int(window.total_seconds()))
        user = check_password(session, username, password)
        if user is None:
            throttle.record_failure(session, [user_bucket, ip_bucket], now)
        else:
            throttle.clear(session, user_bucket)
            user_id, role = user.id, user.role
    if user is None:
        log.info("web.login_failed")
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "error": "That username and password do not match."},
            status_code=401,
        )
    close_session(ctx.db(), request.cookies.get(SESSION_COOKIE))  # never reuse a session id
    token = open_session(ctx.db(), user_id, web)
    log.info("web.login", user_id=user_id)
    target = safe_next(next)
    response = RedirectResponse(target if target != "/" else landing(role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, secure=web.cookie_secure, samesite="lax", path="/"
    )
    return response


@router.post("/logout")
def logout(request: Request, signed: Annotated[Signed, Depends(staff)]) -> Response:
    close_session(ctx_of(request).db(), request.cookies.get(SESSION_COOKIE))
    log.info("web.logout", user_id=signed.account.id)
    request.state.signed = None
    response = render(request, "login.html", {"next": "/", "error": None, "signed_out": True})
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=ctx_of(request).web.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
