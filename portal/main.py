"""The patient portal app: `create_app()` for tests, `app` for `uvicorn portal.main:app`
(127.0.0.1:ROI_PORTAL_PORT, 8001, in the demo).

Its own process, templates, static files, headers and cookies; no staff route, no staff
session. Requests go through services/intake.py as every other channel's do. Nothing connects
at import: the database URL and the Temporal client are resolved on start-up (or injected by
tests), and Temporal is retried lazily (a request is stored even while it is down).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from config.logging import configure_logging
from config.production import Component, refuse_demo_settings
from config.redact import install_log_filters
from config.settings import Settings, get_settings
from portal import cases as case_forms
from portal.config import PortalSettings
from portal.context import Limited, NotReady, PortalContext, Refused
from portal.forms import N_
from portal.render import gettext_for, language_of, render
from portal.routes import cases, friends_family, imaging, records, requests, status, third_party
from portal.routes.requests import page_context
from portal.security import Hardening, csrf_protect
from store.postgres import resolve_database_url

log = structlog.get_logger(__name__)
STATIC = Path(__file__).parent / "static"

#: Error pages (msgids): title, message.
REFUSED = (
    N_("This form has expired"),
    N_(
        "The form is older than your browser's session or did not come from this site. Go back, "
        "reload the page and send it again."
    ),
)
LIMITED = (
    N_("Too many attempts"),
    N_(
        "For your safety we pause requests from one connection after many attempts. Try again "
        "in %(minutes)s minutes, or call the Release of Information office."
    ),
)
NOT_FOUND = (N_("Page not found"), N_("There is no such page. Start again from the first page."))
UNAVAILABLE = (
    N_("Please try again shortly"),
    N_("The service is not available right now. Nothing was sent. Try again in a few minutes."),
)


def _error(request: Request, pair: tuple[str, str], code: int, **values: object) -> Response:
    gettext = gettext_for(language_of(request))
    return render(
        request,
        "error.html",
        {
            **page_context(request),
            "title": gettext(pair[0]),
            "message": gettext(pair[1]) % values if values else gettext(pair[1]),
        },
        status_code=code,
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        log.info("portal.csrf_refused", reason=exc.reason)
        return await run_in_threadpool(_error, request, REFUSED, 403)

    @app.exception_handler(Limited)
    async def limited(request: Request, exc: Limited) -> Response:
        minutes = max(1, round(exc.retry_after / 60))
        response = await run_in_threadpool(_error, request, LIMITED, 429, minutes=minutes)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, exc: NotReady) -> Response:
        return await run_in_threadpool(_error, request, UNAVAILABLE, 503)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # only the status form's length limits reach here; never echo the validator's text
        return await run_in_threadpool(_error, request, NOT_FOUND, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405):
            return await run_in_threadpool(_error, request, NOT_FOUND, 404)
        return await run_in_threadpool(_error, request, UNAVAILABLE, exc.status_code)


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    temporal_client: Client | None = None,
    portal: PortalSettings | None = None,
) -> FastAPI:
    """The portal. Tests inject the database URL and the test server's client; otherwise both
    are resolved from settings on start-up."""
    settings = settings or get_settings()
    ctx = PortalContext(
        settings=settings,
        portal=portal or PortalSettings(),
        database_url=database_url,
        client=temporal_client,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if database_url is None:  # the production path (tests inject the database)
            configure_logging(settings.log_level, settings.log_format)
            refuse_demo_settings(settings, Component.PORTAL)  # outside local/test: stop here
            ctx.database_url = await run_in_threadpool(
                resolve_database_url, settings.database_url, settings.data_dir
            )
        if ctx.client is None:
            await ctx.temporal()
        log.info("portal.started", temporal=ctx.client is not None)
        yield

    app = FastAPI(
        title="ROI engine — patient portal",
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.ctx = ctx
    install_log_filters()  # uvicorn's access log: no query string
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    app.include_router(requests.router)
    app.include_router(cases.router)
    app.include_router(friends_family.router)
    app.include_router(status.router)
    app.include_router(third_party.router)
    app.include_router(imaging.router)
    app.include_router(records.router)
    _install_handlers(app)
    # forms with a document take up to the upload limit (and the form around it)
    app.add_middleware(
        Hardening,
        upload_paths=frozenset(f.action for f in case_forms.FORMS if f.upload)
        | {"/request/own-records", "/request/imaging"}  # the optional photo ID
        | {status.CORRECTION_PATH},  # a corrected authorization form
        upload_limit=ctx.portal.upload_max_bytes + 256 * 1024,
    )
    if settings.trusted_proxies:
        # X-Forwarded-For believed only from ROI_TRUSTED_PROXIES (uvicorn runs with
        # --no-proxy-headers, so nobody else can choose their own throttle bucket)
        hosts = [h.strip() for h in settings.trusted_proxies.split(",") if h.strip()]
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=hosts)
    return app


app = create_app()
