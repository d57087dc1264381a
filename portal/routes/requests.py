"""The home page and the records forms (own records, imaging): shown in the patient's
language, submitted through services/intake.py (stored first, then validated, then started).

A field error re-renders the same form, every typed value kept and each error next to its
field, 422. A filled honeypot is answered like a success, but nothing is stored or started,
and it is a security event. Submissions are limited per client address (portal/throttle.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from domain.contacts import team_contact
from domain.kinds.common import Team
from domain.types import Language, RequestKind, Site
from portal import cases, forms, uploads
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
#: The records forms' optional photo of an ID (kept as an upload of kind "photo_id").
PHOTO_ID = "photo_id_file"
PHOTO_ID_HINT = N_(
    "A photo of your driver's license or other ID: it helps us confirm who you are. JPEG, PNG "
    "or PDF, up to %(megabytes)s MB. Only hospital staff see it; it is never shown on this site."
)
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
            "others": _other_kinds(request),
        },
    )


def _other_kinds(request: Request) -> list[dict[str, str]]:
    """The home page's links to the other kinds' forms and the outside-records answer."""
    gettext = gettext_for(language_of(request))
    links = [
        {"href": spec.action, "heading": gettext(spec.heading), "summary": gettext(spec.summary)}
        for spec in cases.FORMS
    ]
    links.append(
        {
            "href": "/request/outside-records",
            "heading": gettext(cases.OUTSIDE_HEADING),
            "summary": gettext(cases.OUTSIDE_SUMMARY),
        }
    )
    return links


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
    file_lost: bool = False,
) -> Response:
    defaults = {"relationship": "self", "format": "pdf"}
    gettext = gettext_for(language_of(request))
    megabytes = max(1, ctx_of(request).portal.upload_max_bytes // 1_000_000)
    return render(
        request,
        "form.html",
        {
            **_form_context(request, kind, values or defaults, errors or []),
            "file_lost": file_lost,
            "photo_id_hint": gettext(PHOTO_ID_HINT) % {"megabytes": megabytes},
        },
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
    values, files = await form_values(request)

    def show(kept: dict[str, str], errors: list[forms.FormError], code: int) -> Response:
        return _show_form(request, kind, kept, _ordered(errors), code, file_lost=bool(files))

    def prepare(language: Language) -> Prepared:
        """The request, with the optional photo ID re-encoded (portal/uploads.py, as the case
        forms' documents; a refused file is named on its field and nothing is stored)."""
        prepared = Prepared(forms.record_payload(kind, values, language))
        data = files.get(PHOTO_ID)
        if data:
            limit = ctx_of(request).portal.upload_max_bytes
            try:
                document = uploads.clean(data, limit)
            except uploads.UploadRefused as refused:
                prepared.errors.append(
                    forms.portal_error(
                        PHOTO_ID,
                        refused.code,
                        gettext_for(language),
                        megabytes=max(1, limit // 1_000_000),
                    )
                )
            else:
                prepared.uploads.append(
                    intake.UploadedDocument("photo_id", document.media_type, document.content)
                )
        return prepared

    return await send_form(request, values, prepare, show)


@dataclass
class Prepared:
    """A form ready to send: the submission, the portal's own errors found while preparing it
    (an upload refused), and the clean uploads that go with it."""

    payload: dict[str, Any]
    errors: list[forms.FormError] = field(default_factory=list)
    uploads: list[intake.UploadedDocument] = field(default_factory=list)


#: Shows a form again: what was typed, the errors (translated), the status code.
Show = Callable[[dict[str, str], list[forms.FormError], int], Response]


async def form_values(request: Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """What was typed (each value capped, never the CSRF token) and the files sent, each read
    up to one byte past the upload limit (the limit itself is judged by portal/uploads.py)."""
    form = await request.form()
    limit = ctx_of(request).portal.upload_max_bytes
    values: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(name, value[:_MAX_VALUE])
        elif isinstance(value, UploadFile) and value.filename:
            files[name] = await value.read(limit + 1)
    values.pop("csrf_token", None)
    request.state.form_lang = values.get("lang")
    return values, files


async def send_form(
    request: Request,
    values: dict[str, str],
    prepare: Callable[[Language], Prepared],
    show: Show,
    overrides: Mapping[str, str] | None = None,
) -> Response:
    """What every portal form does on sending: count it against the client's address (429),
    answer a filled honeypot with a made-up number (nothing stored), prepare the submission
    (uploads re-encoded), then, unless the confirmation box is unchecked or the portal found a
    problem (nothing stored: every problem named at once), send it through services/intake.py
    (stored, validated, started). A field error shows the form again with everything kept."""
    ctx = ctx_of(request)
    language = language_of(request)
    gettext = gettext_for(language)
    now = datetime.now(UTC)
    client = await run_in_threadpool(_admit, request, now)
    if values.get(HONEYPOT):
        await run_in_threadpool(_honeypot, request, client, now)
        return _confirmation(request, intake.new_tracking_number())
    prepared = await run_in_threadpool(prepare, language)
    if values.get("consent") != "yes" or prepared.errors:
        # Not sent: nothing is stored. Every other problem is named at the same time (the
        # domain's own rules, run on the unsent form).
        issues = intake.issues_of({**prepared.payload, "received_at": now.isoformat()}, now)
        errors = list(prepared.errors)
        if values.get("consent") != "yes":
            errors.append(forms.consent_error(gettext))
        errors += forms.translate_issues(issues, gettext, overrides)
        log.info("portal.not_sent", codes=[i.code for i in issues])
        return show(values, _dedupe(errors), 422)
    result = await intake.submit(
        prepared.payload,
        database_url=ctx.db(),
        client=await ctx.temporal(),
        task_queue=ctx.settings.task_queue,
        source="portal",
        idempotency_key=forms.idempotency_key(values),
        now=now,
        uploads=prepared.uploads,
        payload_keys=ctx.settings.payload_keys,
    )
    if not result.accepted:
        log.info(
            "portal.rejected",
            submission_id=result.submission_id,
            codes=[e.code for e in result.errors],
        )
        return show(values, forms.translate_issues(result.errors, gettext, overrides), 422)
    log.info(
        "portal.accepted",
        submission_id=result.submission_id,
        request_id=result.request_id,
        duplicate=result.duplicate,
    )
    return _confirmation(request, result.tracking_number or "", prepared.payload.get("kind"))


def _dedupe(errors: list[forms.FormError]) -> list[forms.FormError]:
    """One message per field (the first wins)."""
    seen: dict[str, forms.FormError] = {}
    for e in errors:
        seen.setdefault(e.field, e)
    return list(seen.values())


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
    PHOTO_ID,
    "consent",
]


def _ordered(errors: list[forms.FormError]) -> list[forms.FormError]:
    return sorted(errors, key=lambda e: _ORDER.index(e.field) if e.field in _ORDER else 0)


#: What happens next, by kind (the records kinds: the 30-day answer and the identity call).
NEXT_STEP: dict[str, str] = {
    RequestKind.AMENDMENT.value: N_(
        "We answer within 60 days. We may call you if we need to know more about the change "
        "you ask for."
    ),
    RequestKind.REVOCATION.value: N_(
        "Your revocation is recorded now: nothing more will be released on that authorization. "
        "What was released before you revoked it cannot be taken back."
    ),
    RequestKind.DECEASED_NOTICE.value: N_(
        "We will update the patient's record. Nothing is sent to anyone. We may call you if we "
        "need more information."
    ),
    RequestKind.PROXY_ACCESS.value: N_(
        "We answer within 30 days. We may call you to confirm who you are."
    ),
}
NEXT_STEP[RequestKind.ADOPTION_NOTICE.value] = NEXT_STEP[RequestKind.DECEASED_NOTICE.value]
NEXT_STEP[RequestKind.BILLING.value] = NEXT_STEP[RequestKind.PROXY_ACCESS.value]


def _confirmation(request: Request, tracking_number: str, kind: str | None = None) -> Response:
    """The tracking number and what happens next for this kind of request."""
    next_step = NEXT_STEP.get(kind or "")
    return render(
        request,
        "confirm.html",
        {
            **page_context(request),
            "tracking_number": tracking_number,
            "next_step": gettext_for(language_of(request))(next_step) if next_step else None,
        },
    )
