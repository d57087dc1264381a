"""Reprint a letter on demand: the very PDF that was sent, served again for printing.

Nothing is rendered anew (a reprint is the letter the requester got, with its date and
wording, not what a letter would say today); the reprint is an audit row on the request
(`letter.reprinted`, with the item and the letter's kind). Staff who may open the request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from app import detail
from app.audit import audit
from app.auth import Signed, ctx_of, need
from app.context import NotFound
from app.deps import SessionDep
from app.roles import Can
from app.routes.requests import RequestId, _load
from store.models import OutboundItem

router = APIRouter(tags=["requests"], include_in_schema=False)
log = structlog.get_logger(__name__)


@router.post("/requests/{request_id}/documents/{item_id}/reprint")
def reprint_letter(
    request: Request,
    request_id: RequestId,
    item_id: int,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
) -> Response:
    """The stored letter's PDF, inline (the browser prints it), audited."""
    _load(session, signed.account, request_id)
    item = session.get(OutboundItem, item_id)
    if item is None or item.request_id != request_id or item.channel != "letter":
        raise NotFound()
    path = detail.document_path(item, ctx_of(request).settings.outbox_path)
    if path is None:
        raise NotFound()
    audit(
        session,
        request_id,
        signed.account.id,
        "letter.reprinted",
        datetime.now(UTC),
        item=item_id,
        kind=item.kind,
    )
    log.info("letter.reprinted", request_id=request_id, item=item_id, kind=item.kind)
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=f"{item.kind}-{item_id}.pdf",
        content_disposition_type="inline",
        headers={"Cache-Control": "no-store"},
    )
