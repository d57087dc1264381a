"""The third-party authorization (164.508), signed electronically (ESIGN/UETA).

One page, in sections: every 164.508(c) element is a field, the three required statements
are shown and acknowledged, then the signature: consent to sign electronically, the typed full
name (the signature; a drawing may be added), and a one-time code mailed to the signer's
address (attribution). "Email me a code" posts the same form to `/request/third-party/code`,
so nothing typed is lost; the page comes back with the code field to fill.

On sending: the portal's own checks and the domain's (parse_submission, then the release
basis: every 164.508 element) run first, and nothing is stored while any fails. Then the code
is checked (a wrong try counts; nothing is stored), the authorization becomes a PDF with a
signature page sealed with the hospital's key (portal/signing.py), and intake stores the
submission and the sealed PDF together before it validates and starts the workflow. Limits:
submissions per client address (as every form), codes per address and per email address,
submissions per verified email address.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from domain.authorization import Authorization, validate_authorization
from domain.calendar import local_date
from domain.errors import FieldIssue
from domain.release_basis import release_basis_issues
from domain.request import Contact, issues_from_validation_error, parse_submission
from domain.types import Language, Site
from portal import codes, forms, signing, third_party
from portal.context import Limited, ctx_of
from portal.i18n import direction
from portal.render import gettext_for, language_of, render
from portal.routes.requests import (
    _MAX_VALUE,
    HONEYPOT,
    SITE_NAMES,
    _admit,
    _confirmation,
    _honeypot,
    page_context,
)
from portal.security import client_address
from portal.throttle import opaque, take
from services import intake
from store.db import session_scope
from store.security import record_security_event

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

ACTION = "/request/third-party"
#: The drawn signature may be far longer than any typed value (a PNG data URL).
_MAX_SIGNATURE_CHARS = signing.MAX_SIGNATURE_BYTES * 4 // 3 + 64

HEADING = forms.N_("Authorize a release to someone else")
INTRO = forms.N_(
    "Let the hospital send health information to a person or organization you choose: a "
    "lawyer, an insurer, an employer, a family member. Every part of this form is needed for "
    "the authorization to be valid. You sign it here, online."
)
CODE_SENT = forms.N_(
    "We emailed a code to the address you gave. It works for %(minutes)s minutes. Type it "
    "below and send the form."
)

#: Errors in the order the fields appear on the page.
ORDER = [
    "form",
    "signer",
    "requester_first_name",
    "requester_last_name",
    "representative_authority",
    "authority_document",
    "patient_first_name",
    "patient_middle_name",
    "patient_last_name",
    "patient_dob",
    "patient_mrn",
    "site",
    "records_description",
    "date_from",
    "date_to",
    "recipient_name",
    "delivery",
    "recipient_email",
    "recipient_address_line1",
    "recipient_address_city",
    "recipient_address_state",
    "recipient_address_postal_code",
    "purpose",
    "expiration_date",
    "expiration_event",
    "ack_revoke",
    "ack_conditioning",
    "ack_redisclosure",
    "signer_email",
    "phone",
    "esign_consent",
    "signature_name",
    "signature_png",
    "code",
]
_CHOICES = {"signer", "site", "delivery", "authority_document"}


def _ordered(errors: list[forms.FormError]) -> list[forms.FormError]:
    return sorted(errors, key=lambda e: ORDER.index(e.field) if e.field in ORDER else 0)


def _context(
    request: Request,
    values: dict[str, str],
    errors: list[forms.FormError],
    notice: str | None,
) -> dict[str, Any]:
    gettext = gettext_for(language_of(request))
    return {
        **page_context(request),
        "action": ACTION,
        "heading": gettext(HEADING),
        "intro": gettext(INTRO),
        "values": values,
        "errors": {e.field: e.message for e in _ordered(errors)},
        "notice": notice,
        "form_id": forms.new_form_id(),
        "signers": [(v, gettext(label), None, None) for v, label in third_party.SIGNERS],
        "documents": [
            (v, gettext(label), None, None) for v, label in third_party.AUTHORITY_DOCUMENTS
        ],
        "sites": [(s.value, gettext(name), None, None) for s, name in SITE_NAMES.items()],
        "deliveries": [
            (v, gettext(label), gettext(hint), None) for v, label, hint in third_party.DELIVERIES
        ],
        "statements": [
            (
                "ack_revoke",
                gettext(forms.LABELS["ack_revoke"]),
                gettext(third_party.STATEMENT_REVOKE),
            ),
            (
                "ack_conditioning",
                gettext(forms.LABELS["ack_conditioning"]),
                gettext(third_party.STATEMENT_CONDITIONING),
            ),
            (
                "ack_redisclosure",
                gettext(forms.LABELS["ack_redisclosure"]),
                gettext(third_party.STATEMENT_REDISCLOSURE),
            ),
        ],
        "acknowledge": gettext(third_party.ACKNOWLEDGE),
        "esign_disclosure": gettext(third_party.ESIGN_DISCLOSURE),
        "esign_agree": gettext(third_party.ESIGN_AGREE),
        "not_on_this_form": gettext(third_party.NOT_ON_THIS_FORM),
        "has_drawing": bool(values.get("signature_png")),
    }


def _show(
    request: Request,
    values: dict[str, str] | None = None,
    errors: list[forms.FormError] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    defaults = {"signer": "patient"}
    return render(
        request,
        "third_party.html",
        _context(request, values or defaults, errors or [], notice),
        status_code=status_code,
    )


@router.get(ACTION, response_class=HTMLResponse)
def third_party_form(request: Request) -> Response:
    """The authorization form."""
    return _show(request)


async def _values(request: Request) -> dict[str, str]:
    """What was typed (each value capped; the drawing may be longer), never the CSRF token."""
    form = await request.form()
    values = {
        k: v[: _MAX_SIGNATURE_CHARS if k == "signature_png" else _MAX_VALUE]
        for k, v in form.items()
        if isinstance(v, str)
    }
    values.pop("csrf_token", None)
    values.pop("code_request", None)
    request.state.form_lang = values.get("lang")
    return values


def _code_limits(request: Request, email: str, now: datetime) -> int | None:
    """One mailed code against the client's address and the email address (None: go ahead;
    else the seconds to wait)."""
    ctx = ctx_of(request)
    limits = ctx.portal
    client = opaque(client_address(request))
    window = timedelta(minutes=limits.code_window_minutes)
    with session_scope(ctx.db()) as session:
        wait = take(
            session, [f"portal:code:ip:{client}"], limits.codes_per_address_window, window, now
        )
        if wait is None:
            wait = take(
                session,
                [f"portal:code:email:{codes.email_digest(email)[:16]}"],
                limits.codes_per_email_window,
                window,
                now,
            )
        if wait is not None:
            record_security_event(
                session,
                action="portal.code_rate",
                outcome="throttled",
                client=client,
                at=now,
                detail={"route": request.url.path, "retry_after": wait},
            )
    return wait


@router.post(f"{ACTION}/code", response_class=HTMLResponse)
async def send_code(request: Request) -> Response:
    """Mail a one-time code to the signer's address; the form comes back as it was typed."""
    ctx = ctx_of(request)
    values = await _values(request)
    gettext = gettext_for(language_of(request))
    now = datetime.now(UTC)
    minutes = int(codes.CODE_TTL.total_seconds() // 60)
    if values.get(HONEYPOT):
        await run_in_threadpool(_honeypot, request, opaque(client_address(request)), now)
        return _show(request, values, notice=gettext(CODE_SENT) % {"minutes": minutes})
    email = (values.get("signer_email") or "").strip()
    issues = _email_issues(email)
    if issues:
        errors = forms.translate_issues(issues, gettext, forms.THIRD_PARTY_FIELDS)
        return _show(request, values, errors, 422)
    wait = await run_in_threadpool(_code_limits, request, email, now)
    if wait is not None:
        log.info("portal.code_throttled", retry_after=wait)
        error = forms.portal_error(
            "signer_email", "codes_limited", gettext, minutes=max(1, round(wait / 60))
        )
        response = _show(request, values, [error], 429)
        response.headers["Retry-After"] = str(wait)
        return response
    code_id, code = await run_in_threadpool(codes.issue, ctx.db(), email, now)
    await run_in_threadpool(codes.send, ctx.settings, code_id, email, code, gettext)
    log.info("portal.code_sent", code_id=code_id)
    values.pop("code", None)
    return _show(request, values, notice=gettext(CODE_SENT) % {"minutes": minutes})


def _email_issues(email: str) -> list[FieldIssue]:
    """The signer's address as the domain judges a contact's (missing, or not an address)."""
    if not email:
        return [FieldIssue(field="requester.contact.email", code="missing", message="")]
    try:
        Contact.model_validate({"email": email})
    except ValidationError as error:
        return [
            FieldIssue(field=f"requester.contact.{i.field}", code=i.code, message="")
            for i in issues_from_validation_error(error)
        ]
    return []


def _domain_issues(payload: dict[str, Any], now: datetime) -> list[FieldIssue]:
    """What intake and the workflow would say: the submission's own rules, then every 164.508
    element on the site's date (an authorization that would be deficient is not sent)."""
    sub, issues = parse_submission({**payload, "received_at": now.isoformat()}, now)
    if sub is not None:
        return release_basis_issues(sub, local_date(sub.site, now))
    try:  # the rest of the form is wrong too: still name every missing 164.508 element
        auth = Authorization.model_validate(payload.get("authorization") or {})
    except ValidationError:
        return issues
    return issues + validate_authorization(auth, now.date())


def _signed_on(values: dict[str, str], now: datetime) -> Any:
    try:
        return local_date(Site(values.get("site") or ""), now)
    except ValueError:
        return now.date()


def _sections(values: dict[str, str], gettext: Any) -> list[signing.Section]:
    """What the patient filled in, in their language, for the PDF."""

    def label(name: str) -> str:
        return str(gettext(forms.LABELS[name]))

    def choice(options: tuple[tuple[str, str], ...], value: str | None) -> str:
        found = dict(options).get(value or "")
        return str(gettext(found)) if found else (value or "")

    def v(name: str) -> str:
        return (values.get(name) or "").strip()

    site = dict((s.value, n) for s, n in SITE_NAMES.items()).get(v("site"))
    lines_signer = [(label("signer"), choice(third_party.SIGNERS, v("signer")))]
    if v("signer") != "patient":
        lines_signer += [
            (label("requester_first_name"), v("requester_first_name")),
            (label("requester_last_name"), v("requester_last_name")),
            (label("representative_authority"), v("representative_authority")),
            (
                label("authority_document"),
                choice(third_party.AUTHORITY_DOCUMENTS, v("authority_document")),
            ),
        ]
    patient = " ".join(
        p for p in (v("patient_first_name"), v("patient_middle_name"), v("patient_last_name")) if p
    )
    address = ", ".join(
        p
        for p in (
            v("recipient_address_line1"),
            v("recipient_address_city"),
            v("recipient_address_state"),
            v("recipient_address_postal_code"),
        )
        if p
    )
    dates = " – ".join(p for p in (v("date_from"), v("date_to")) if p)
    statements = [
        (str(gettext(forms.LABELS[n])), str(gettext(text)) + " ✓")
        for n, text in (
            ("ack_revoke", third_party.STATEMENT_REVOKE),
            ("ack_conditioning", third_party.STATEMENT_CONDITIONING),
            ("ack_redisclosure", third_party.STATEMENT_REDISCLOSURE),
        )
    ]
    return [
        signing.Section(str(gettext("Who signs")), lines_signer),
        signing.Section(
            str(gettext("The patient")),
            [
                (str(gettext("Patient's name")), patient),
                (label("patient_dob"), v("patient_dob")),
                (label("patient_mrn"), v("patient_mrn")),
            ],
        ),
        signing.Section(
            str(gettext("What may be released, and by whom")),
            [
                (str(gettext("Who may release it")), str(gettext(site)) if site else ""),
                (label("records_description"), v("records_description")),
                (str(gettext("Dates of care")), dates),
            ],
        ),
        signing.Section(
            str(gettext("Who receives it, and why")),
            [
                (label("recipient_name"), v("recipient_name")),
                (label("recipient_email"), v("recipient_email")),
                (str(gettext("Their address")), address),
                (
                    label("delivery"),
                    choice(tuple((a, b) for a, b, _ in third_party.DELIVERIES), v("delivery")),
                ),
                (label("purpose"), v("purpose")),
            ],
        ),
        signing.Section(
            str(gettext("When it ends")),
            [
                (label("expiration_date"), v("expiration_date")),
                (label("expiration_event"), v("expiration_event")),
            ],
        ),
        signing.Section(str(gettext("What you should know")), statements),
    ]


def _sealed_pdf(
    request: Request, values: dict[str, str], language: Language, now: datetime, drawn: bytes | None
) -> bytes:
    """The authorization as filled in, its signature page, sealed (ESIGN/UETA evidence)."""
    gettext = gettext_for(language)
    evidence = signing.Evidence(
        typed_name=(values.get("signature_name") or "").strip(),
        drawn_png=drawn,
        signed_at=now,
        verified_email=(values.get("signer_email") or "").strip(),
        client_address=client_address(request),
    )
    words = signing.SignaturePageText(
        heading=gettext("Electronic signature"),
        typed_name=gettext(forms.LABELS["signature_name"]),
        drawn=gettext(forms.LABELS["signature_png"]),
        not_drawn=gettext("No drawing: the typed name is the signature."),
        signed_at=gettext("Signed at (UTC)"),
        email=gettext("Email address proven with a one-time code"),
        address=gettext("Signed from the internet address"),
        consent=gettext(third_party.ESIGN_DISCLOSURE)
        + "\n"
        + gettext(third_party.ESIGN_AGREE)
        + " ✓",
    )
    pdf = signing.authorization_pdf(
        gettext(HEADING),
        _sections(values, gettext),
        evidence,
        words,
        rtl=direction(language) == "rtl",
    )
    return signing.seal(pdf, signing.sealing_key(ctx_of(request).settings))


def _submissions_by_email(request: Request, email: str, now: datetime) -> int | None:
    """One submission against the verified email address (the per-address limit is _admit's)."""
    ctx = ctx_of(request)
    limits = ctx.portal
    with session_scope(ctx.db()) as session:
        return take(
            session,
            [f"portal:submit:email:{codes.email_digest(email)[:16]}"],
            limits.submissions_per_window,
            timedelta(minutes=limits.submission_window_minutes),
            now,
        )


@router.post(ACTION, response_class=HTMLResponse)
async def third_party_submit(request: Request) -> Response:
    """Sign and send the authorization."""
    ctx = ctx_of(request)
    values = await _values(request)
    language = language_of(request)
    gettext = gettext_for(language)
    now = datetime.now(UTC)
    client = await run_in_threadpool(_admit, request, now)
    if values.get(HONEYPOT):
        await run_in_threadpool(_honeypot, request, client, now)
        return _confirmation(request, intake.new_tracking_number())
    payload = third_party.payload(values, language, _signed_on(values, now))
    # the portal's own rules first, then the domain's: every problem named at once
    errors: list[forms.FormError] = []
    if values.get("esign_consent") != "yes":
        errors.append(forms.portal_error("esign_consent", "esign_consent_required", gettext))
    drawn: bytes | None = None
    try:
        drawn = signing.signature_png(values.get("signature_png"))
    except signing.BadSignatureImage:
        values.pop("signature_png", None)
        errors.append(forms.portal_error("signature_png", "signature_unreadable", gettext))
    if not (values.get("code") or "").strip():
        errors.append(forms.portal_error("code", "code_missing", gettext))
    issues = _domain_issues(payload, now)
    errors += forms.translate_issues(issues, gettext, forms.THIRD_PARTY_FIELDS)
    if errors:
        log.info("portal.third_party_incomplete", codes=[i.code for i in issues])
        return _show(request, values, _dedupe(errors), 422)
    email = (values.get("signer_email") or "").strip()
    key = forms.idempotency_key(values)
    seen = False if key is None else await run_in_threadpool(intake.known_key, ctx.db(), key)
    if seen:
        # a double click: its code is spent; intake answers with the first submission's request
        result = await intake.submit(
            payload,
            database_url=ctx.db(),
            client=await ctx.temporal(),
            task_queue=ctx.settings.task_queue,
            source="portal",
            idempotency_key=key,
            now=now,
        )
        if result.accepted:
            return _confirmation(request, result.tracking_number or "")
    checked = await run_in_threadpool(codes.check, ctx.db(), email, values.get("code") or "", now)
    if checked.outcome != codes.Outcome.OK:
        log.info("portal.code_refused", outcome=checked.outcome.value)
        error = forms.portal_error("code", f"code_{checked.outcome.value}", gettext)
        return _show(request, values, [error], 422)
    wait = await run_in_threadpool(_submissions_by_email, request, email, now)
    if wait is not None:
        raise Limited(wait)
    pdf = await run_in_threadpool(_sealed_pdf, request, values, language, now, drawn)
    result = await intake.submit(
        payload,
        database_url=ctx.db(),
        client=await ctx.temporal(),
        task_queue=ctx.settings.task_queue,
        source="portal",
        idempotency_key=key,
        now=now,
        signed_document=intake.SignedDocument("authorization", pdf, now),
    )
    if not result.accepted:
        log.info(
            "portal.rejected",
            submission_id=result.submission_id,
            codes=[e.code for e in result.errors],
        )
        errors = forms.translate_issues(result.errors, gettext, forms.THIRD_PARTY_FIELDS)
        return _show(request, values, errors, 422)
    await run_in_threadpool(codes.use, ctx.db(), checked.code_id or "", now)
    log.info(
        "portal.accepted",
        submission_id=result.submission_id,
        request_id=result.request_id,
        duplicate=result.duplicate,
        signed=True,
    )
    return _confirmation(request, result.tracking_number or "")


def _dedupe(errors: list[forms.FormError]) -> list[forms.FormError]:
    """One message per field (the first wins)."""
    seen: dict[str, forms.FormError] = {}
    for e in errors:
        seen.setdefault(e.field, e)
    return list(seen.values())
