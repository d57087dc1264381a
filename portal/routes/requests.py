"""The home page and the records forms (own records, imaging): shown in the patient's
language, submitted through services/intake.py (stored first, then validated, then started).

A field error re-renders the same form, every typed value kept and each error next to its
field, 422. A filled honeypot is answered like a success, but nothing is stored or started,
and it is a security event. Submissions are limited per client address (portal/throttle.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.contacts import team_contact
from domain.kinds.common import Team
from domain.request import parse_submission
from domain.types import Language, RequestKind, Site
from portal import forms
from portal.context import Limited, ctx_of
from portal.forms import N_
from portal.i18n import format_money
from portal.render import gettext_for, language_of, render
from portal.security import client_address
from portal.throttle import opaque, take
from services import intake
from store.db import session_scope
from store.security import record_security_event

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

#: What a form page says, per kind (msgids).
PAGES: dict[RequestKind, dict[str, str]] = {
    RequestKind.ACCESS_OWN: {
        "action": "/request/own-records",
        "heading": N_("Request a copy of your records"),
        "intro": N_(
            "For the patient, or a parent, guardian or legal representative asking for them. "
            "Your own records are free; only FedEx delivery has a fee."
        ),
        "records_hint": N_("For example: all visit notes and test results since 2023."),
    },
    RequestKind.IMAGING: {
        "action": "/request/imaging",
        "heading": N_("Request your imaging"),
        "intro": N_(
            "The images of an X-ray, CT, MRI or ultrasound, by a secure link or on a CD. A CD "
            "by US mail is free; FedEx costs extra."
        ),
        "records_hint": N_("For example: the knee MRI of March 2025."),
    },
}
SITE_NAMES: dict[Site, str] = {
    Site.ARIZONA: N_("Arizona"),
    Site.FLORIDA: N_("Florida"),
    Site.MINNESOTA: N_("Minnesota"),
    Site.WISCONSIN: N_("Wisconsin"),
}
HONEYPOT = "website"
#: How much of each typed value is kept for showing the form again (the body is at most 1 MiB).
_MAX_VALUE = 4000


def page_context(request: Request) -> dict[str, Any]:
    """What every portal page shows (the office's phone in the footer)."""
    return {"contact_phone": team_contact(Team.ROI).phone or ""}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The request kinds as plain choices, with what each costs."""
    return render(
        request,
        "home.html",
        {
            **page_context(request),
            "own_choices": forms.delivery_choices(RequestKind.ACCESS_OWN),
            "imaging_choices": forms.delivery_choices(RequestKind.IMAGING),
        },
    )


def _form_context(
    request: Request,
    kind: RequestKind,
    values: dict[str, str],
    errors: list[forms.FormError],
) -> dict[str, Any]:
    gettext = gettext_for(language_of(request))
    money = _money(language_of(request))
    choices = forms.delivery_choices(kind)
    chosen = next((c.fee_cents for c in choices if c.method.value == values.get("delivery")), None)
    page = PAGES[kind]
    return {
        **page_context(request),
        "action": page["action"],
        "heading": gettext(page["heading"]),
        "intro": gettext(page["intro"]),
        "records_hint": gettext(page["records_hint"]),
        "values": values,
        "errors": {e.field: e.message for e in errors},
        "form_id": forms.new_form_id(),
        "relationships": [(v, gettext(label), None, None) for v, label in forms.RELATIONSHIPS],
        "sites": [(s.value, gettext(name), None, None) for s, name in SITE_NAMES.items()],
        "deliveries": [
            (
                c.method.value,
                gettext(c.label),
                f"{gettext(c.hint)} {money(c.fee_cents) if c.fee_cents else gettext('free')}",
                money(c.fee_cents) if c.fee_cents else "0",
            )
            for c in choices
        ],
        "formats": (
            [(v, gettext(label), None, None) for v, label in forms.FORMATS]
            if kind == RequestKind.ACCESS_OWN
            else None
        ),
        "chosen_fee": chosen,
    }


def _money(language: Language) -> Any:
    return lambda cents: format_money(language, cents)


def _show_form(
    request: Request,
    kind: RequestKind,
    values: dict[str, str] | None = None,
    errors: list[forms.FormError] | None = None,
    status_code: int = 200,
) -> Response:
    defaults = {"relationship": "self", "format": "pdf"}
    return render(
        request,
        "form.html",
        _form_context(request, kind, values or defaults, errors or []),
        status_code=status_code,
    )


@router.get("/request/own-records", response_class=HTMLResponse)
def own_records_form(request: Request) -> Response:
    """The form for a copy of one's own records."""
    return _show_form(request, RequestKind.ACCESS_OWN)


@router.get("/request/imaging", response_class=HTMLResponse)
def imaging_form(request: Request) -> Response:
    """The form for one's own imaging."""
    return _show_form(request, RequestKind.IMAGING)


@router.post("/request/own-records", response_class=HTMLResponse)
async def own_records_submit(request: Request) -> Response:
    """Send a request for a copy of one's own records."""
    return await _submit(request, RequestKind.ACCESS_OWN)


@router.post("/request/imaging", response_class=HTMLResponse)
async def imaging_submit(request: Request) -> Response:
    """Send a request for one's own imaging."""
    return await _submit(request, RequestKind.IMAGING)


def _admit(request: Request, now: datetime) -> str:
    """Count this submission against its address (429 past the limit); the opaque client."""
    ctx = ctx_of(request)
    client = opaque(client_address(request))
    limits = ctx.portal
    with session_scope(ctx.db()) as session:
        wait = take(
            session,
            [f"portal:submit:ip:{client}"],
            limits.submissions_per_window,
            timedelta(minutes=limits.submission_window_minutes),
            now,
        )
        if wait is not None:
            record_security_event(
                session,
                action="portal.rate",
                outcome="throttled",
                client=client,
                at=now,
                detail={"route": request.url.path, "retry_after": wait},
            )
    if wait is not None:
        log.info("portal.throttled", retry_after=wait)
        raise Limited(wait)
    return client


def _honeypot(request: Request, client: str, now: datetime) -> None:
    """A bot filled the field people never see: recorded, nothing started."""
    with session_scope(ctx_of(request).db()) as session:
        record_security_event(
            session,
            action="portal.honeypot",
            outcome="blocked",
            client=client,
            at=now,
            detail={"route": request.url.path},
        )
    log.info("portal.honeypot")


async def _submit(request: Request, kind: RequestKind) -> Response:
    ctx = ctx_of(request)
    form = await request.form()
    values = {k: v[:_MAX_VALUE] for k, v in form.items() if isinstance(v, str)}
    values.pop("csrf_token", None)
    request.state.form_lang = values.get("lang")
    language = language_of(request)
    now = datetime.now(UTC)
    client = await run_in_threadpool(_admit, request, now)
    if values.get(HONEYPOT):
        await run_in_threadpool(_honeypot, request, client, now)
        return _confirmation(request, intake.new_tracking_number())
    payload = forms.record_payload(kind, values, language)
    gettext = gettext_for(language)
    if values.get("consent") != "yes":
        # Not sent until the person confirms it: nothing is stored. Every other problem is
        # named at the same time (the domain's own rules, run on the unsent form).
        _, issues = parse_submission({**payload, "received_at": now.isoformat()}, now)
        consent = forms.consent_error(gettext)
        errors = [consent, *forms.translate_issues(issues, gettext)]
        log.info("portal.not_confirmed", codes=[i.code for i in issues])
        return _show_form(request, kind, values, _ordered(errors), 422)
    result = await intake.submit(
        payload,
        database_url=ctx.db(),
        client=await ctx.temporal(),
        task_queue=ctx.settings.task_queue,
        source="portal",
        idempotency_key=forms.idempotency_key(values),
        now=now,
    )
    if not result.accepted:
        log.info(
            "portal.rejected",
            submission_id=result.submission_id,
            codes=[e.code for e in result.errors],
        )
        errors = forms.translate_issues(result.errors, gettext)
        return _show_form(request, kind, values, _ordered(errors), 422)
    log.info(
        "portal.accepted",
        submission_id=result.submission_id,
        request_id=result.request_id,
        duplicate=result.duplicate,
    )
    return _confirmation(request, result.tracking_number or "")


#: Errors in the order the fields appear on the page.
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
    "records_description",
    "date_from",
    "date_to",
    "delivery",
    "format",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_postal_code",
    "consent",
]


def _ordered(errors: list[forms.FormError]) -> list[forms.FormError]:
    return sorted(errors, key=lambda e: _ORDER.index(e.field) if e.field in _ORDER else 0)


def _confirmation(request: Request, tracking_number: str) -> Response:
    return render(
        request,
        "confirm.html",
        {**page_context(request), "tracking_number": tracking_number},
    )
