"""The second factor of sign-in: a TOTP code (or a single-use recovery code) after the
password, for every role. An account without one sets it up here, right after its password:
a QR code drawn by us (inline SVG), the secret as text, a first code to confirm, and ten
recovery codes shown once. Codes are throttled like passwords (per account and per address,
counted before any code is checked); every outcome is an `auth.mfa` security event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import mfa, security_log, throttle
from app.auth import Signed, ctx_of, finish_sign_in, safe_next, set_session_cookie
from app.context import AppContext, TooManyAttempts
from app.deps import HalfSigned, SessionDep
from app.render import render
from app.routes.session import client_address, landing
from app.security import opaque
from app.security_log import Action

router = APIRouter(tags=["session"], include_in_schema=False)
log = structlog.get_logger(__name__)

WRONG = "That code is not right. Enter the 6-digit code your authenticator app shows now."


def _keys(ctx: AppContext) -> str | None:
    return ctx.settings.payload_keys


def _admit(session: Session, request: Request, signed: Signed) -> None:
    """Each code takes its place in the account's and the address's buckets first (committed:
    it counts, and a refusal is kept, before the code is checked)."""
    ctx = ctx_of(request)
    web = ctx.web
    window = timedelta(minutes=web.login_window_minutes)
    delays = {
        "base_seconds": web.throttle_base_delay_seconds,
        "cap_seconds": float(web.throttle_max_delay_seconds),
    }
    wait = throttle.admit(
        session,
        {
            f"mfa:user:{signed.account.id}": throttle.Policy(
                web.login_max_failures, window, **delays
            ),
            f"mfa:ip:{opaque(client_address(request))}": throttle.Policy(
                web.login_address_max_failures, window, **delays
            ),
        },
        datetime.now(UTC),
    )
    if wait is not None:
        security_log.add(
            session,
            Action.MFA,
            "throttled",
            actor=signed.account.id,
            client=security_log.client_of(request),
            detail={"retry_after": wait},
        )
    session.commit()
    if wait is not None:
        raise TooManyAttempts(wait)


def _succeeded(session: Session, request: Request, signed: Signed) -> None:
    throttle.succeeded(
        session,
        forget=(f"mfa:user:{signed.account.id}",),
        give_back=(f"mfa:ip:{opaque(client_address(request))}",),
    )


def _signed_in(request: Request, session: Session, signed: Signed, next: str) -> Response:
    ctx = ctx_of(request)
    token = finish_sign_in(
        session,
        signed,
        ctx.web,
        client=security_log.client_of(request),
        agent=request.headers.get("user-agent"),
    )
    log.info("web.login", user_id=signed.account.id)
    target = safe_next(next)
    response = RedirectResponse(
        target if target != "/" else landing(signed.account.role), status_code=303
    )
    set_session_cookie(response, token, ctx.web)
    return response


def _setup_page(
    request: Request,
    session: Session,
    signed: Signed,
    next: str,
    error: str | None = None,
    code: int = 200,
) -> Response:
    ctx = ctx_of(request)
    secret = mfa.start_setup(session, signed.account.id, _keys(ctx))
    uri = mfa.provisioning_uri(secret, signed.account.username)
    return render(
        request,
        "mfa.html",
        {
            "mode": "setup",
            "next": safe_next(next),
            "qr": mfa.qr_svg(uri),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "error": error,
            "me": None,
        },
        status_code=code,
    )


def _enrolled(session: Session, user_id: str) -> bool:
    row = mfa.state(session, user_id)
    return row is not None and row.confirmed_at is not None


@router.get("/login/mfa", response_class=HTMLResponse)
def mfa_page(
    request: Request, session: SessionDep, signed: HalfSigned, next: str = "/"
) -> Response:
    if not _enrolled(session, signed.account.id):
        return _setup_page(request, session, signed, next)
    context = {"mode": "code", "next": safe_next(next), "error": None, "me": None}
    return render(request, "mfa.html", context)


@router.post("/login/mfa", response_class=HTMLResponse)
def mfa_code(
    request: Request,
    session: SessionDep,
    signed: HalfSigned,
    code: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    ctx = ctx_of(request)
    _admit(session, request, signed)
    client = security_log.client_of(request)
    factor = mfa.verify(session, signed.account.id, code, _keys(ctx))
    if factor is None:
        security_log.add(session, Action.MFA, "failed", actor=signed.account.id, client=client)
    else:
        _succeeded(session, request, signed)
        left = mfa.recovery_codes_left(session, signed.account.id)
        detail: dict[str, object] = {"factor": factor}
        if factor == "recovery_code":
            detail["recovery_codes_left"] = left
        security_log.add(
            session, Action.MFA, "ok", actor=signed.account.id, client=client, detail=detail
        )
    if factor is None:
        context = {"mode": "code", "next": safe_next(next), "error": WRONG, "me": None}
        return render(request, "mfa.html", context, status_code=401)
    return _signed_in(request, session, signed, next)


@router.post("/login/mfa/setup", response_class=HTMLResponse)
def mfa_setup(
    request: Request,
    session: SessionDep,
    signed: HalfSigned,
    code: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    ctx = ctx_of(request)
    _admit(session, request, signed)
    client = security_log.client_of(request)
    codes = mfa.confirm_setup(session, signed.account.id, code, _keys(ctx))
    if codes is None:
        security_log.add(
            session,
            Action.MFA,
            "failed",
            actor=signed.account.id,
            client=client,
            detail={"step": "enrolment"},
        )
    else:
        _succeeded(session, request, signed)
        security_log.add(
            session,
            Action.MFA,
            "enrolled",
            actor=signed.account.id,
            client=client,
            detail={"factor": "totp", "recovery_codes": len(codes)},
        )
    if codes is None:
        return _setup_page(request, session, signed, next, WRONG, 422)
    response = _signed_in(request, session, signed, next)
    # the recovery codes are shown on this one page, never stored in clear
    page = render(
        request,
        "mfa.html",
        {
            "mode": "codes",
            "codes": codes,
            "continue_to": response.headers["location"],
            "me": None,
            "csrf": "",
        },
    )
    page.headers.append("set-cookie", response.headers["set-cookie"])
    return page
