"""The portal's own protections: security headers with a strict Content-Security-Policy (no
inline script or style, nothing from another origin), no caching of pages, a 1 MiB body limit,
one log line per request without its query string, and CSRF by double submit (a random token
in a `__Host-` cookie and in every form; the Origin header, when sent, must be our own).

Nothing here knows the staff app: no staff session, no staff cookie, another cookie name.
"""

from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import urlsplit

import structlog
from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.context import Refused, ctx_of

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
CSRF_COOKIE = "roi_portal_csrf"
LANG_COOKIE = "roi_portal_lang"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    b"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    b"base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"content-security-policy", CSP),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class _BodyTooLarge(Exception):
    """A body past MAX_BODY_BYTES: answered 413."""


class Hardening:
    """Headers on every answer, the body limit, and a log line per request (path and status
    only: a query string or a form may hold a name or a date of birth)."""

    def __init__(
        self,
        app: ASGIApp,
        upload_paths: frozenset[str] = frozenset(),
        upload_limit: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        #: forms that carry a document may send up to `upload_limit` bytes (every other path
        #: MAX_BODY_BYTES)
        self.upload_paths = upload_paths
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope.get("path", "")
        status_code = 500
        tls = scope.get("scheme") == "https"
        response_started = False

        async def send_wrapped(message: Message) -> None:
            nonlocal status_code, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_code = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {name for name, _ in SECURITY_HEADERS}
                ]
                headers += SECURITY_HEADERS
                if tls:
                    headers.append(HSTS)
                if not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        received = 0
        limit = self.upload_limit if path in self.upload_paths else MAX_BODY_BYTES

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge()
            return message

        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        try:
            if declared.isdigit() and int(declared) > limit:
                raise _BodyTooLarge()
            await self.app(scope, receive_limited, send_wrapped)
        except _BodyTooLarge:
            if response_started:
                raise
            too_large = Response("Too large.", 413, media_type="text/plain")
            await too_large(scope, receive, send_wrapped)
        finally:
            log.info(
                "portal.request",
                method=scope.get("method"),
                path=path if path.startswith(("/static/", "/request/")) else _known(path),
                status=status_code,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )


_KNOWN = frozenset({"/", "/status", "/healthz", "/request/own-records", "/request/imaging"})


def _known(path: str) -> str:
    """The path when it is one of ours, else a placeholder (a typed URL may carry anything)."""
    return path if path in _KNOWN else "other"


def cookie_name(name: str, request: Request) -> str:
    """`__Host-<name>` with Secure cookies (ROI_PORTAL_COOKIE_SECURE, the default)."""
    return f"__Host-{name}" if ctx_of(request).portal.cookie_secure else name


def csrf_token(request: Request) -> str:
    """This browser's CSRF token: its cookie's, or a new one the page will set."""
    existing = request.cookies.get(cookie_name(CSRF_COOKIE, request))
    if existing and 20 <= len(existing) <= 64:
        return existing
    new: str | None = getattr(request.state, "new_csrf", None)
    if new is None:
        new = secrets.token_urlsafe(24)
        request.state.new_csrf = new
    return new


def set_cookies(request: Request, response: Response, language: str | None) -> None:
    """The CSRF cookie when this page made a new token; the language cookie when chosen."""
    secure = ctx_of(request).portal.cookie_secure
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(
            cookie_name(CSRF_COOKIE, request),
            new,
            httponly=True,
            secure=secure,
            samesite="strict",
            path="/",
        )
    if language:
        response.set_cookie(
            cookie_name(LANG_COOKIE, request),
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            secure=secure,
            samesite="lax",
            path="/",
        )


def _origin_ok(request: Request) -> bool:
    """No Origin header (older browsers, tests), or our own host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin != "null" and urlsplit(origin).netloc == host


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: every unsafe request proves it came from our own page."""
    if request.method in SAFE_METHODS:
        return
    if not _origin_ok(request):
        raise Refused("origin")
    sent: str | None = None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = request.cookies.get(cookie_name(CSRF_COOKIE, request))
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Refused("token")


def client_address(request: Request) -> str:
    """The client's address (X-Forwarded-For was applied by uvicorn's ProxyHeadersMiddleware
    only when the peer is one of ROI_TRUSTED_PROXIES; see portal/main.py)."""
    return request.client.host if request.client else "unknown"
