"""Disclosures made outside the engine, recorded from a request's page (the web app's
`roi disclosure-record`): the same service function, for the request's patient, audited on the
request. ROI specialists and supervisors, for requests of their sites."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import plain
from app.accounts import Account
from app.auth import Signed, ctx_of, need, set_flash
from app.context import Forbidden
from app.deps import SessionDep
from app.render import render
from app.roles import Can, teams_of
from app.routes.requests import RequestId, _load
from domain.errors import FieldIssue
from domain.kinds.common import Team
from domain.sites import site_profile
from domain.types import DeliveryMethod, DisclosureCategory, Site
from services.disclosures import DisclosureDetails, record_staff_disclosure, staff_disclosure_issues
from store.audit import audit
from store.cases import patient_disclosures
from store.models import Disclosure, RecordRequest
from store.staff import usernames

router = APIRouter(tags=["disclosures"], include_in_schema=False)
log = structlog.get_logger(__name__)

FIELDS = (
    "disclosed_at",
    "recipient_name",
    "recipient_address",
    "description",
    "purpose",
    "category",
    "method",
)


def _row(
    session: Session, account: Account, request_id: str, *, view: bool = False
) -> RecordRequest:
    """The request, if the account works ROI requests of its site (the accounting of
    disclosures is ROI's work, as in the CLI). A view of the patient's log is audited."""
    if Team.ROI not in teams_of(account.role):
        raise Forbidden(reason="role")
    row = _load(session, account, request_id)
    if view:
        audit(session, request_id, account.id, "disclosures.viewed", datetime.now(UTC))
    return row


def _log_of(session: Session, row: RecordRequest) -> tuple[list[Disclosure], dict[str, str]]:
    """The patient's disclosure log (what an accounting lists), and staff names."""
    found = patient_disclosures(session, row.patient_key) if row.patient_key else []
    return found, usernames(session, {d.disclosed_by for d in found})


def _show(
    request: Request,
    session: Session,
    row: RecordRequest,
    *,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found, names = _log_of(session, row)
    profile = site_profile(Site(row.site))
    return render(
        request,
        "disclosures.html",
        {
            "row": row,
            "disclosures": found,
            "names": names,
            "categories": [c.value for c in DisclosureCategory],
            "methods": [m.value for m in DeliveryMethod],
            "errors": errors or {},
            "values": values or {},
            "zone_label": profile.time_zone_label,
        },
        status_code=status_code,
    )


@router.get("/requests/{request_id}/disclosures", response_class=HTMLResponse)
def disclosures_page(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.ACT))],
) -> Response:
    row = _row(session, signed.account, request_id, view=True)
    return _show(request, session, row)


def _when(raw: str, zone: ZoneInfo) -> str | datetime:
    """A `datetime-local` value (no zone) is the site's local time; anything else is left to
    the model (and its plain message)."""
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _details(
    form: dict[str, str], zone: ZoneInfo
) -> tuple[DisclosureDetails | None, list[FieldIssue]]:
    values: dict[str, Any] = {k: v for k, v in form.items() if v != ""}
    if values.get("disclosed_at"):
        values["disclosed_at"] = _when(values["disclosed_at"], zone)
    try:
        item = DisclosureDetails.model_validate(values)
    except ValidationError as error:
        return None, plain.from_validation_error(error)
    return item, staff_disclosure_issues(item, datetime.now(UTC))


@router.post("/requests/{request_id}/disclosures", response_class=HTMLResponse)
async def record_disclosure(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.ACT))],
) -> Response:
    """Record one disclosure made outside the engine (services.disclosures, a transaction of
    its own, as from the CLI); refusals come back next to the field."""
    ctx = ctx_of(request)
    row = await run_in_threadpool(_row, session, signed.account, request_id)
    raw = await request.form()
    form = {k: str(raw.get(k) or "").strip() for k in FIELDS}
    item, problems = _details(form, site_profile(Site(row.site)).zone)
    if item is None or problems:
        errors: dict[str, list[str]] = {}
        for found in problems:
            field = found.field if found.field in FIELDS else "form"
            errors.setdefault(field, []).append(plain.plain(found).message)
        log.info(
            "disclosure.refused",
            request_id=request_id,
            codes=[p.code for p in problems],
        )
        return await run_in_threadpool(
            _show, request, session, row, errors=errors, values=form, status_code=422
        )
    key = await run_in_threadpool(
        record_staff_disclosure, ctx.db(), item, signed.account.id, request_id=request_id
    )
    log.info("disclosure.recorded", request_id=request_id, disclosure=key, by=signed.account.id)
    await run_in_threadpool(set_flash, session, signed, "Disclosure recorded.")
    return RedirectResponse(f"/requests/{request_id}/disclosures", status_code=303)
