"""The codec endpoint the Temporal Web UI (and `temporal … --codec-endpoint`) calls to show
sealed payloads: `POST /codec/decode`. Only a signed-in account whose role may decode payloads
(supervisors) gets plain payloads, and every decode is an append-only security event plus an
audit row on each request whose payloads were opened. CORS answers only the configured Temporal
UI origins (ROI_CODEC_CORS_ORIGINS), with credentials, so the UI can send the staff session.

In the Temporal UI: Settings → Data Encoder → `http://localhost:8000/codec`, with "include
cross-origin credentials" on, while signed in to the staff app in the same browser.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from starlette.concurrency import run_in_threadpool
from temporalio.api.common.v1 import Payload, Payloads

from app import security_log
from app.auth import Signed, ctx_of, need
from app.deps import SessionDep
from app.roles import Can
from config.codec import codec_from
from store.audit import audit
from store.security import record_security_event

log = structlog.get_logger(__name__)
router = APIRouter(tags=["codec"], include_in_schema=False)

#: At most this many request ids are read out of one decode for the requests' audit trails.
MAX_AUDITED_REQUESTS = 50


def allowed_origins(request: Request) -> frozenset[str]:
    """The Temporal UI origins this app answers cross-origin (ROI_CODEC_CORS_ORIGINS)."""
    spec = ctx_of(request).settings.codec_cors_origins
    return frozenset(o.strip().rstrip("/") for o in spec.split(",") if o.strip())


def _cors_headers(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin", "")
    if origin not in allowed_origins(request):
        return {}
    return {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "POST, OPTIONS",
        "access-control-allow-headers": "content-type, x-namespace, authorization",
        "access-control-max-age": "600",
        "vary": "Origin",
    }


@router.options("/codec/{action}")
def preflight(action: str, request: Request) -> Response:
    """The browser's CORS preflight: answered only for the configured UI origins."""
    headers = _cors_headers(request)
    return Response(status_code=204 if headers else 403, headers=headers)


def _request_ids(payload: Payload, found: set[str]) -> None:
    """Request ids named in a decoded JSON payload (top two levels): whose data was opened."""
    if payload.metadata.get("encoding") != b"json/plain" or len(found) >= MAX_AUDITED_REQUESTS:
        return
    try:
        value: Any = json.loads(payload.data)
    except ValueError:
        return
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            request_id = item.get("request_id")
            if isinstance(request_id, str) and 0 < len(request_id) <= 32:
                found.add(request_id)
            if depth < 2:
                stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list) and depth < 2:
            stack.extend((v, depth + 1) for v in item[:20])


@router.post("/codec/decode")
async def decode(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.DECODE_PAYLOADS))],
) -> Response:
    """Open the payloads the UI sends (`{"payloads": [...]}`), for this signed-in account."""
    ctx = ctx_of(request)
    body = await request.body()
    try:
        sealed = json_format.Parse(body, Payloads())
    except json_format.ParseError:
        return JSONResponse({"detail": "body is not a Payloads message"}, status_code=400)
    try:
        opened = await codec_from(ctx.settings.payload_keys).decode(sealed.payloads)
        outcome = "ok"
    except Exception as error:  # tampered (InvalidTag), unknown key id, malformed payload
        opened, outcome = [], "failed"
        log.warning("codec.decode_failed", account=signed.account.id, error=type(error).__name__)
    request_ids: set[str] = set()
    for payload in opened:
        _request_ids(payload, request_ids)
    now = datetime.now(UTC)

    def record() -> None:
        record_security_event(
            session,
            action="codec.decode",
            outcome=outcome,
            actor=signed.account.id,
            client=security_log.client_of(request),  # one-way, as every security event's
            at=now,
            detail={
                "payloads": len(sealed.payloads),
                "namespace": request.headers.get("x-namespace", "")[:64],
                "requests": sorted(request_ids),
            },
        )
        for request_id in sorted(request_ids):
            audit(session, request_id, signed.account.id, "payloads_decoded", now)

    await run_in_threadpool(record)
    log.info("codec.decoded", account=signed.account.id, payloads=len(opened), outcome=outcome)
    if outcome != "ok":
        return JSONResponse(
            {"detail": "payloads could not be decoded"},
            status_code=422,
            headers=_cors_headers(request),
        )
    return Response(
        json_format.MessageToJson(Payloads(payloads=opened)),
        media_type="application/json",
        headers=_cors_headers(request),
    )
