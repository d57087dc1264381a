"""Operations endpoints of the web app: `/metrics` for Prometheus and `/readyz` for probes.

Neither is linked from the UI nor behind staff sign-in (Prometheus and the kubelet cannot sign
in). `/metrics` holds counts by code labels only, never PHI; set `ROI_METRICS_TOKEN` to require
`Authorization: Bearer <token>` as well (Prometheus' `authorization` scrape option), and/or
keep it off the public ingress (deploy/k8s does both). `/healthz` (liveness) lives with the
session routes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from config import metrics
from config.settings import Settings
from store import gauges
from store.db import reachable


def router(
    settings: Settings, database_url: Callable[[], str | None], temporal_ready: Callable[[], bool]
) -> APIRouter:
    """The routes, bound to one app's settings, database URL and Temporal client state."""
    routes = APIRouter(include_in_schema=False)
    registry = gauges.read_model_registry(database_url)

    @routes.get("/readyz")
    async def readyz() -> Response:
        """Ready when the read model answers (Temporal is reported, and retried lazily)."""
        database = await run_in_threadpool(reachable, database_url())
        body = {"database": database, "temporal": temporal_ready()}
        return JSONResponse(body, status_code=200 if database else 503)

    if settings.web_metrics:

        @routes.get("/metrics")
        async def scrape(request: Request) -> Response:
            """Prometheus text format: process metrics and the read-model gauges."""
            if settings.metrics_token:
                sent = request.headers.get("authorization", "")
                if not secrets.compare_digest(sent, f"Bearer {settings.metrics_token}"):
                    return JSONResponse(
                        {"detail": "Metrics need a bearer token."},
                        401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )
            body, content_type = await run_in_threadpool(metrics.exposition, registry)
            return Response(body, media_type=content_type)

    return routes
