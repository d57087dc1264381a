"""The staff web app: `create_app()` for tests and embedding, `app` for `uvicorn app.main:app`.

Nothing connects at import: the database URL and the Temporal client are resolved on startup
(or injected by tests), and Temporal is retried lazily if it is down when the app starts.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from app import security_log, throttle
from app.auth import clear_session_cookie, csrf_protect
from app.config import WebSettings
from app.context import (
    HERE,
    AppContext,
    CsrfRejected,
    Forbidden,
    NotFound,
    NotSignedIn,
    TooManyAttempts,
    Unavailable,
)
from app.render import render
from app.routes import (
    account,
    admin,
    admin_security,
    batch,
    board,
    codec,
    disclosures,
    docs,
    download,
    inbound,
    intake,
    mfa,
    privacy,
    queue,
    reports,
    reprint,
    requests,
    review,
    search,
    session,
    status,
)
from app.routes import health as web_ops
from app.security_log import Action
from config import tracing
from config.logging import configure_logging
from config.production import Component, refuse_demo_settings
from config.redact import install_log_filters, redact_path
from config.settings import Settings, get_settings
from store.postgres import resolve_database_url

log = structlog.get_logger(__name__)

#: The largest request body the app reads (1 MiB): no submission or staff form comes near it.
MAX_BODY_BYTES = 1024 * 1024


class _BodyTooLarge(Exception):
    """Raised from `receive` once a body passes MAX_BODY_BYTES; Hardening answers 413."""


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # same-origin: no referrer leaves the site, and our own forms keep their Origin header
    # (with no-referrer, browsers send "Origin: null" on POST and CSRF checks could not tell)
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
]
# The API docs (app/routes/docs.py) run from our own files; their libraries set inline styles
# and ReDoc starts a worker from a blob. Still no third-party origin.
DOCS_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
#: Sent only on responses that went out over TLS (never on plain http: browsers ignore it
#: there, and a plain-http install on a private network must stay reachable).
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class Hardening:
    """Security headers on every response (HSTS when served over TLS: the request's scheme is
    https, or X-Forwarded-Proto says so from one of ROI_TRUSTED_PROXIES), no caching of pages,
    and one log line per request with the path (ids only, never a query string, body or
    download token) and the outcome."""

    def __init__(self, app: ASGIApp, trusted_proxies: str = "") -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope.get("path", "")
        status_code = 500
        peer = scope.get("client")
        tls = throttle.served_over_tls(
            scope.get("scheme", "http"),
            peer[0] if peer else None,
            [
                v.decode("latin-1")
                for k, v in scope.get("headers") or []
                if k == b"x-forwarded-proto"
            ],
            self.trusted_proxies,
        )

        async def send_wrapped(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"content-security-policy"
                ]
                for name, value in SECURITY_HEADERS:
                    if name == b"content-security-policy" and path in ("/docs", "/redoc"):
                        value = DOCS_CSP
                    headers.append((name, value))
                if tls:
                    headers.append(HSTS)
                if not path.startswith("/static/") and not any(
                    k.lower() == b"cache-control" for k, _ in headers
                ):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        received = 0
        started_response = False

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise _BodyTooLarge()
            return message

        async def send_tracked(message: Message) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_wrapped(message)

        try:
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise _BodyTooLarge()
            await self.app(scope, receive_limited, send_tracked)
        except _BodyTooLarge:
            if started_response:
                raise
            detail = f"The request body is larger than {MAX_BODY_BYTES} bytes."
            too_large: Response = (
                JSONResponse({"detail": detail}, 413)
                if path.startswith("/api/")
                else Response(detail, 413, media_type="text/plain")
            )
            await too_large(scope, receive, send_wrapped)
        finally:
            state = scope.get("state") or {}
            signed = state.get("signed")
            log.info(
                "web.request",
                method=scope.get("method"),
                path=redact_path(path),  # /download/<token> is a credential
                status=status_code,
                ms=round((time.perf_counter() - started) * 1000, 1),
                user_id=signed.account.id if signed else None,
            )


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_handlers(app: FastAPI) -> None:
    async def page(request: Request, template: str, context: dict[str, Any], code: int) -> Response:
        return await run_in_threadpool(render, request, template, context, status_code=code)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "Sign in or send a valid bearer token."},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        request.state.signed = None
        target = request.url.path if request.method == "GET" else "/"
        response = await page(
            request, "login.html", {"next": target, "error": None, "expired": exc.expired}, 401
        )
        if exc.expired:
            clear_session_cookie(response, request.app.state.ctx.web)
        return response

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        await run_in_threadpool(security_log.refusal, request, Action.FORBIDDEN, exc.reason)
        if _wants_json(request):
            return JSONResponse({"detail": exc.message}, 403)
        return await page(
            request, "error.html", {"title": "Not allowed", "message": exc.message}, 403
        )

    @app.exception_handler(CsrfRejected)
    async def csrf(request: Request, exc: CsrfRejected) -> Response:
        await run_in_threadpool(security_log.refusal, request, Action.CROSS_SITE, exc.reason)
        message = (
            "This form has expired or did not come from this site. Reload the page and try again."
        )
        if _wants_json(request):
            return JSONResponse({"detail": "Missing or wrong X-CSRF-Token."}, 403)
        return await page(request, "error.html", {"title": "Form expired", "message": message}, 403)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Not found."}, 404)
        return await page(
            request,
            "error.html",
            {"title": "Not found", "message": "There is no such page or request."},
            404,
        )

    @app.exception_handler(TooManyAttempts)
    async def too_many(request: Request, exc: TooManyAttempts) -> Response:
        wait = exc.retry_after
        later = f"{wait} seconds" if wait < 120 else f"{round(wait / 60)} minutes"
        message = f"Too many attempts. Wait {later} and try again."
        headers = {"Retry-After": str(wait)}
        if _wants_json(request):
            return JSONResponse({"detail": message}, 429, headers=headers)
        if request.url.path == "/login":
            response = await page(request, "login.html", {"next": "/", "error": message}, 429)
        else:
            response = await page(
                request, "error.html", {"title": "Too many attempts", "message": message}, 429
            )
        response.headers.update(headers)
        return response

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> Response:
        message = "A service the app needs is not reachable right now; try again shortly."
        if _wants_json(request):
            return JSONResponse({"detail": message}, 503)
        return await page(request, "error.html", {"title": "Unavailable", "message": message}, 503)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
                "code": e.get("type", "invalid"),
                "message": e.get("msg", "Invalid value."),
            }
            for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": "Invalid request.", "errors": errors}, 422)
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return await page(request, "error.html", {"title": "Invalid form", "message": message}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code not in (404, 405):
            return JSONResponse({"detail": exc.detail}, exc.status_code)
        return await page(
            request,
            "error.html",
            {"title": "Not found", "message": "There is no such page."},
            exc.status_code,
        )


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    temporal_client: Client | None = None,
    web: WebSettings | None = None,
) -> FastAPI:
    """The app. Tests inject the database URL and the test server's client; otherwise both are
    resolved from settings on startup (ROI_DATABASE_URL or the embedded PostgreSQL; Temporal at
    ROI_TEMPORAL_ADDRESS)."""
    settings = settings or get_settings()
    ctx = AppContext(
        settings=settings,
        web=web or WebSettings(),
        database_url=database_url,
        client=temporal_client,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if database_url is None:  # the production path (tests inject the database)
            configure_logging(settings.log_level, settings.log_format)
            refuse_demo_settings(settings, Component.WEB)  # outside local/test: stop here
            ctx.database_url = await run_in_threadpool(
                resolve_database_url, settings.database_url, settings.data_dir
            )
        if ctx.client is None:
            await ctx.temporal()
        log.info("web.started", temporal=ctx.client is not None)
        yield

    app = FastAPI(
        title="ROI engine — intake API",
        version="1",
        description="Submit records requests and read OpenAPI docs. Staff pages are not part "
        "of the API.",
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
        docs_url=None,  # served from local assets by app/routes/docs.py
        redoc_url=None,
    )
    app.state.ctx = ctx
    tracing.configure(settings, "roi-web")  # ROI_OTEL_EXPORTER; off by default
    install_log_filters()  # uvicorn's access log: no download token, no query string
    app.include_router(
        web_ops.router(settings, lambda: ctx.database_url, lambda: ctx.client is not None)
    )
    app.mount(docs.ASSETS_URL, docs.assets(), name="docs-assets")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (
        session,
        mfa,
        account,
        queue,
        requests,
        disclosures,
        privacy,
        review,
        search,
        board,
        reports,
        reprint,
        batch,
        admin,
        admin_security,
        status,
        inbound,
        intake,
        download,
        codec,
        docs,
    ):
        app.include_router(module.router)
    _install_handlers(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                intake.openapi_components()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    app.add_middleware(Hardening, trusted_proxies=settings.trusted_proxies)
    tracing.instrument_app(app)  # outermost: the request span is the trace's root
    return app


app = create_app()
