"""Sign-in sessions (server-side, in PostgreSQL), role checks and CSRF protection.

The session cookie holds a random token; the database keeps only its hash, the account, a
per-session CSRF token, and the idle and absolute expiry. Every unsafe request (POST...) must
carry the CSRF token: the session's for signed-in staff, a double-submit cookie's for the
sign-in and status forms; API clients with a bearer token are exempt (no ambient credential).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import security_log
from app.accounts import Account, account_of
from app.config import WebSettings
from app.context import AppContext, CsrfRejected, Forbidden, NotSignedIn
from app.roles import Can, can
from app.security import new_token, same, token_hash
from app.security_log import Action
from store import staff_sessions
from store.db import session_scope

#: Cookie names before their prefix: with Secure cookies (the default) every cookie is named
#: `__Host-<name>`, which browsers accept only when Secure, Path=/ and without Domain, and only
#: from a secure origin (https, or http on loopback: 127.0.0.1, localhost). So no sibling host
#: or plain-http page can set or shadow it (a planted CSRF or session cookie). With
#: ROI_WEB_COOKIE_SECURE=false (plain http off-loopback) the names stay unprefixed.
SESSION_COOKIE = "roi_session"
ANON_CSRF_COOKIE = "roi_csrf"
HOST_PREFIX = "__Host-"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOUCH_EVERY = timedelta(seconds=30)
PUBLIC_FORMS = frozenset({"/login", "/status"})
#: a one-time enrolment link (app/routes/account.py); a download link's date-of-birth form
PUBLIC_FORM_PREFIXES = ("/enrol/", "/download/")


def _public_form(path: str) -> bool:
    return path in PUBLIC_FORMS or path.startswith(PUBLIC_FORM_PREFIXES)


@dataclass
class Signed:
    """The signed-in staff member of this request."""

    account: Account
    csrf: str
    token_hash: str
    flash: dict[str, str] | None = None
    pending: bool = False  # password only: the second factor is still to come (routes/mfa.py)


def cookie_name(name: str, web: WebSettings) -> str:
    """The name a cookie is set and read under: `__Host-` + name when cookies are Secure."""
    return f"{HOST_PREFIX}{name}" if web.cookie_secure else name


def session_cookie_name(web: WebSettings) -> str:
    """The session cookie's name (the same cookie while the second factor is pending)."""
    return cookie_name(SESSION_COOKIE, web)


def csrf_cookie_name(web: WebSettings) -> str:
    """The anonymous double-submit CSRF cookie's name (sign-in and status forms)."""
    return cookie_name(ANON_CSRF_COOKIE, web)


def session_token(request: Request) -> str | None:
    """The session cookie's token sent with this request, if any."""
    return request.cookies.get(session_cookie_name(ctx_of(request).web))


def set_session_cookie(response: Response, token: str, web: WebSettings) -> None:
    response.set_cookie(
        session_cookie_name(web),
        token,
        httponly=True,
        secure=web.cookie_secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, web: WebSettings) -> None:
    # a __Host- cookie is only replaced by one with the same attributes (Secure, Path=/)
    response.delete_cookie(
        session_cookie_name(web), path="/", secure=web.cookie_secure, httponly=True, samesite="lax"
    )


def set_csrf_cookie(response: Response, token: str, web: WebSettings) -> None:
    response.set_cookie(
        csrf_cookie_name(web),
        token,
        httponly=True,
        secure=web.cookie_secure,
        samesite="strict",
        path="/",
    )


def ctx_of(request: Request) -> AppContext:
    return request.app.state.ctx


#: How long a password-only (pending) session may wait for its second factor.
PENDING_MINUTES = 10


def open_session(
    session: Session,
    user_id: str,
    web: WebSettings,
    *,
    pending: bool = False,
    client: str | None = None,
    agent: str | None = None,
) -> str:
    """A new session for the account; returns the cookie's token. A `pending` one (the
    password was right, the second factor is still to come) opens nothing but the second
    factor's pages and lapses after PENDING_MINUTES. `client` (the address's opaque label) and
    a summary of `agent` (the User-Agent) are what its owner sees on /account/sessions."""
    from app.sessions import summarize_agent

    token = new_token()
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=PENDING_MINUTES if pending else web.session_max_hours * 60)
    staff_sessions.add_session(
        session,
        token_hash=token_hash(token),
        user_id=user_id,
        csrf_token=new_token(24),
        now=now,
        expires_at=now + lifetime,
        pending=pending,
        client=client,
        client_summary=summarize_agent(agent),
    )
    return token


def finish_sign_in(
    session: Session,
    signed: Signed,
    web: WebSettings,
    *,
    client: str | None = None,
    agent: str | None = None,
) -> str:
    """The second factor was right: the pending session ends and a full one starts (a new
    token: the session id changes with its privileges). Returns the new cookie's token."""
    staff_sessions.remove(session, signed.token_hash)
    return open_session(session, signed.account.id, web, client=client, agent=agent)


def close_session(
    session: Session, token: str | None, *, reason: str = "signed_out", client: str | None = None
) -> None:
    """End the session with this cookie token, if there is one: a sign-out (`signed_out`) or
    another end (`replaced` by a new sign-in), recorded as a security event."""
    if not token:
        return
    ended = staff_sessions.remove(session, token_hash(token))
    if ended is None:
        return
    if reason == "signed_out":
        security_log.add(session, Action.LOGOUT, "ok", actor=ended, client=client)
    else:
        security_log.add(
            session,
            Action.SESSION_END,
            "ok",
            actor=ended,
            client=client,
            detail={"reason": reason},
        )


def _lookup(request: Request) -> Signed | None:
    """The request's session, checked for expiry (raises NotSignedIn(expired) when it lapsed).

    In a transaction of its own, before the route's: a lapsed session is ended and recorded
    even though the request then answers 401 (the route's session would roll that back)."""
    if hasattr(request.state, "signed"):
        return request.state.signed
    token = session_token(request)
    signed = None
    if token:
        ctx = ctx_of(request)
        now = datetime.now(UTC)
        idle = timedelta(minutes=ctx.web.session_idle_minutes)
        hashed = token_hash(token)
        lapsed = False
        with session_scope(ctx.db()) as session:
            row = staff_sessions.with_account(session, hashed)
            if row is None:
                lapsed = True
            else:
                record, user = row
                if not user.active or record.expires_at <= now or record.last_seen_at + idle <= now:
                    staff_sessions.remove(session, hashed)  # committed before the 401 below
                    lapsed = True
                    if not user.active:
                        reason = "account_inactive"
                    elif record.expires_at <= now:
                        reason = "expired"
                    else:
                        reason = "idle"
                    security_log.add(
                        session,
                        Action.SESSION_END,
                        "ok",
                        actor=user.id,
                        client=security_log.client_of(request),
                        detail={"reason": reason},
                    )
                else:
                    if now - record.last_seen_at > _TOUCH_EVERY:
                        staff_sessions.touch(session, hashed, now)
                    signed = Signed(
                        account=account_of(user),
                        csrf=record.csrf_token,
                        token_hash=hashed,
                        flash=record.flash,
                        pending=record.mfa_pending,
                    )
        if lapsed:
            request.state.signed = None
            raise NotSignedIn(expired=True)
    request.state.signed = signed
    return signed


def optional_staff(request: Request) -> Signed | None:
    """The signed-in staff member, or None (an expired or pending session counts as none)."""
    try:
        signed = _lookup(request)
    except NotSignedIn:
        return None
    return None if signed is None or signed.pending else signed


def staff(request: Request) -> Signed:
    """Dependency: a signed-in staff member (both factors), else 401."""
    signed = _lookup(request)
    if signed is None or signed.pending:
        raise NotSignedIn()
    return signed


def half_signed(request: Request) -> Signed:
    """Dependency of the second factor's pages: a session whose password was right and whose
    second factor is still to come, else 401."""
    signed = _lookup(request)
    if signed is None or not signed.pending:
        raise NotSignedIn()
    return signed


def need(capability: Can) -> Any:
    """Dependency factory: signed in (401) with the capability (403)."""

    def dependency(request: Request) -> Signed:
        signed = staff(request)
        if not can(signed.account.role, capability):
            raise Forbidden()
        return signed

    dependency.__name__ = f"need_{capability.value}"
    return dependency


def anon_csrf(request: Request) -> str:
    """The double-submit token for forms shown before sign-in (set as a cookie by render)."""
    existing = request.cookies.get(csrf_cookie_name(ctx_of(request).web))
    if existing and 20 <= len(existing) <= 64:
        return existing
    if not hasattr(request.state, "new_anon_csrf"):
        request.state.new_anon_csrf = new_token(24)
    return request.state.new_anon_csrf


def _origin_ok(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin != "null"
    return urlsplit(origin).netloc == request.url.netloc


def _codec_origin_ok(request: Request) -> bool:
    """The Temporal UI calls /codec/decode from its own origin: only the configured ones."""
    from app.routes.codec import allowed_origins

    origin = request.headers.get("origin")
    return origin is None or origin in allowed_origins(request) or _origin_ok(request)


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: every unsafe request proves it came from our own page."""
    if request.method in SAFE_METHODS:
        return
    if request.url.path.startswith("/api/") and request.headers.get(
        "authorization", ""
    ).lower().startswith("bearer "):
        return  # a bearer token is not sent by browsers on their own: nothing to forge
    if request.url.path.startswith("/api/") and request.headers.get("x-roi-signature"):
        return  # a signed webhook (the route checks the signature); no browser sends it
    if request.url.path.startswith("/codec/") and _codec_origin_ok(request):
        return  # read-only for a signed-in role (the route checks); CORS limits who reads it
    if not _origin_ok(request):
        raise CsrfRejected("origin")
    try:
        signed = await run_in_threadpool(_lookup, request)  # 401 first when the session lapsed
    except NotSignedIn:
        if not _public_form(request.url.path):
            raise
        signed = None  # a stale cookie does not stop anyone signing in again
    if signed is None and not _public_form(request.url.path):
        raise NotSignedIn()  # everything else needs a session: 401 before any CSRF question
    content_type = request.headers.get("content-type", "")
    sent: str | None = request.headers.get(CSRF_HEADER)
    if sent is None and (
        content_type.startswith("application/x-www-form-urlencoded")
        or content_type.startswith("multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = signed.csrf if signed else request.cookies.get(csrf_cookie_name(ctx_of(request).web))
    if not same(sent, expected):
        raise CsrfRejected()


def set_flash(session: Session, signed: Signed, message: str, kind: str = "ok") -> None:
    """A one-time message for the next page this session sees (no PHI in it), in the route's
    transaction."""
    staff_sessions.set_flash(session, signed.token_hash, {"message": message, "kind": kind})


def pop_flash(database_url: str, signed: Signed) -> dict[str, str] | None:
    """The pending message, cleared so it shows once. In a transaction of its own: pages are
    rendered from routes and from error handlers alike."""
    if not signed.flash:
        return None
    with session_scope(database_url) as session:
        staff_sessions.set_flash(session, signed.token_hash, None)
    flash, signed.flash = signed.flash, None
    return flash


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
