"""The friends-and-family agreement (164.510(b)) on the portal: shown in the patient's
language with the portal's field macros, limited per address, a honeypot answered without
storing anything, and sent to services/friends_family.py (stored first, then checked). It is
not a records request: no tracking number, no workflow; the answer is the agreement's
reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from ulid import ULID

from domain.calendar import local_date
from domain.types import Site
from portal import forms
from portal import friends_family as ff
from portal.context import ctx_of
from portal.render import gettext_for, language_of, render
from portal.routes.requests import (
    HONEYPOT,
    SITE_NAMES,
    _admit,
    _dedupe,
    _honeypot,
    form_values,
    page_context,
)
from services import friends_family

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

PATH = "/request/friends-family"
_ORDER = [
    "form",
    "relationship",
    "requester_first_name",
    "requester_last_name",
    "patient_first_name",
    "patient_middle_name",
    "patient_last_name",
    "patient_dob",
    "patient_mrn",
    "site",
    *(f"person_{n}_{p}" for n in (1, 2, 3) for p in ("name", "relationship", "phone")),
    "scopes",
    "details",
    "until",
    "ends_on",
    "signature_name",
    "consent",
]


def _show(
    request: Request,
    values: dict[str, str] | None = None,
    errors: list[forms.FormError] | None = None,
    status_code: int = 200,
) -> Response:
    gettext = gettext_for(language_of(request))
    ordered = sorted(errors or [], key=lambda e: _ORDER.index(e.field) if e.field in _ORDER else 0)
    context: dict[str, Any] = {
        **page_context(request),
        "action": PATH,
        "heading": gettext(ff.HEADING),
        "intro": gettext(ff.INTRO),
        "values": values or {"relationship": "self", "until": "revoked"},
        "errors": {e.field: e.message for e in ordered},
        "form_id": forms.new_form_id(),
        "relationships": [(v, gettext(label), None, None) for v, label in forms.RELATIONSHIPS],
        "sites": [(s.value, gettext(name), None, None) for s, name in SITE_NAMES.items()],
        "scopes": [(v, gettext(label)) for v, label in ff.SCOPES],
        "untils": [(v, gettext(label), None, None) for v, label in ff.UNTIL],
        "consent_label": gettext(ff.CONSENT),
    }
    return render(request, "friends_family.html", context, status_code=status_code)


@router.get(PATH, response_class=HTMLResponse)
def friends_family_form(request: Request) -> Response:
    """The friends-and-family agreement form."""
    return _show(request)


def _today(site: str | None, now: datetime) -> Any:
    """The site's date (the patient's end date is a date where they were seen)."""
    try:
        return local_date(Site(site or ""), now)
    except ValueError:
        return now.date()


@router.post(PATH, response_class=HTMLResponse)
async def friends_family_submit(request: Request) -> Response:
    """Send the agreement: stored first, then checked; an error shows the form again with
    everything typed kept."""
    values, _files = await form_values(request)
    language = language_of(request)
    gettext = gettext_for(language)
    now = datetime.now(UTC)
    client = await run_in_threadpool(_admit, request, now)
    if values.get(HONEYPOT):
        await run_in_threadpool(_honeypot, request, client, now)
        return _done(request, friends_family.reference(str(ULID())))
    data, fields = ff.payload(values, language)
    today = _today(values.get("site"), now)
    if values.get("consent") != "yes":  # not sent: nothing stored, every problem named
        issues = friends_family.issues_of(data, today)
        log.info("portal.not_sent", codes=[i.code for i in issues])
        errors = forms.translate_issues(issues, gettext, fields)
        return _show(request, values, _dedupe([*errors, forms.consent_error(gettext)]), 422)
    result = await run_in_threadpool(
        lambda: friends_family.submit(
            data,
            database_url=ctx_of(request).db(),
            source="portal",
            idempotency_key=forms.idempotency_key(values),
            now=now,
            today=today,
        )
    )
    if not result.accepted:
        log.info("portal.rejected", codes=[e.code for e in result.errors])
        return _show(request, values, forms.translate_issues(result.errors, gettext, fields), 422)
    log.info("portal.friends_family_accepted", authorization_id=result.authorization_id)
    return _done(request, friends_family.reference(result.authorization_id))


def _done(request: Request, reference: str) -> Response:
    return render(
        request, "friends_family_done.html", {**page_context(request), "reference": reference}
    )
