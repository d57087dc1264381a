"""Documents in: the fax gateway's webhook, staff upload of a scan, the Intake list per site,
and the split screen where a specialist confirms what OCR read and submits the request.

The webhook checks the gateway's HMAC signature before reading anything else (a wrong one is a
401 and a security event, and nothing is stored), then stores the document before it answers.
Every staff action on a document (upload, open, download, confirm, submit, discard) is an audit
row in `request_events` under the document's own key (`doc-<id>`), and submitting adds one on
the request it became. The Intake list shows the documents waiting at the account's sites
beside the submissions kept for review (refused at intake), which are corrected on their own
page with their original receipt time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import security_log
from app.accounts import Account
from app.audit import audit
from app.auth import Signed, ctx_of, need
from app.context import Forbidden, NotFound
from app.deps import SessionDep, commit
from app.plain import field_label, plain
from app.render import render
from app.roles import Can, can
from app.routes.requests import _load
from app.routes.review import _kept_in, _site_of
from app.routes.session import client_address
from app.security import opaque
from app.security_log import Action
from config.production import DEMO_ENVIRONMENTS, DEMO_FAX_SECRET
from config.settings import Settings
from domain.authorization import SignerRole
from domain.documents import ELEMENT_LABELS, ELEMENTS, FIELD_LABELS, Extraction, prefill
from domain.errors import FieldIssue
from domain.request import Relationship
from domain.types import RECORD_COPY_KINDS, DeliveryMethod, Site
from services import inbound
from store import documents

router = APIRouter(tags=["inbound"], include_in_schema=False)
log = structlog.get_logger(__name__)

DocumentId = Annotated[str, Path(pattern=r"^[0-9A-Z]{26}$")]
#: The webhook's signature header: "t=<unix seconds>,v1=<hex HMAC-SHA256 of 't.' + body>".
SIGNATURE_HEADER = "X-ROI-Signature"
#: A signature older (or newer) than this is refused: a captured delivery cannot be replayed.
SIGNATURE_TOLERANCE_SECONDS = 300
_SIGNATURE = re.compile(r"^t=(\d{1,12}),v1=([0-9a-f]{64})$")
#: The fields of the split screen, in the form's order: (name, label, kind of input).
FORM_SECTIONS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Request",
        (
            ("kind", "Kind of request", "kind"),
            ("site", "Site", "site"),
            ("channel", "Arrived by", "channel"),
            ("language", "Language", "language"),
            ("delivery_method", "Delivery", "delivery"),
        ),
    ),
    (
        "Patient",
        (
            ("patient.first_name", "First name", "text"),
            ("patient.middle_name", "Middle name", "text"),
            ("patient.last_name", "Last name", "text"),
            ("patient.date_of_birth", "Date of birth", "date"),
            ("patient.mrn", "Medical record number", "text"),
        ),
    ),
    (
        "Requester",
        (
            ("requester.organization", "Organization", "text"),
            ("requester.first_name", "First name", "text"),
            ("requester.last_name", "Last name", "text"),
            ("requester.relationship", "Relationship to the patient", "relationship"),
            ("requester.email", "Email", "text"),
            ("requester.phone", "Phone", "text"),
            ("requester.line1", "Street address", "text"),
            ("requester.city", "City", "text"),
            ("requester.state", "State", "text"),
            ("requester.postal_code", "ZIP code", "text"),
        ),
    ),
    (
        "Records",
        (
            ("records.description", "Records wanted", "textarea"),
            ("records.date_from", "Dates of service from", "date"),
            ("records.date_to", "Dates of service to", "date"),
        ),
    ),
    (
        "Authorization (164.508)",
        (
            ("authorization.information_description", "Description of the information", "text"),
            ("authorization.disclosing_party", "Who may disclose", "text"),
            ("authorization.recipient", "Who receives it", "text"),
            ("authorization.purpose", "Purpose", "text"),
            ("authorization.expiration_date", "Expiration date", "date"),
            ("authorization.expiration_event", "or expiration event", "text"),
            ("authorization.signed", "Signed", "check"),
            ("authorization.signature_date", "Date signed", "date"),
            ("authorization.signer_role", "Signed by", "signer"),
            ("authorization.representative_authority", "Representative's authority", "text"),
            ("authorization.statement_right_to_revoke", "States the right to revoke", "check"),
            ("authorization.statement_conditioning", "States no conditioning", "check"),
            ("authorization.statement_redisclosure", "States redisclosure", "check"),
        ),
    ),
)
FORM_FIELDS = tuple(name for _, fields in FORM_SECTIONS for name, _, _ in fields)
#: Which reading each field of the form was filled from (its source text is shown beside it).
_SOURCES: dict[str, tuple[str, ...]] = {
    "kind": ("kind",),
    "delivery_method": ("delivery_method",),
    "patient.first_name": ("patient.first_name",),
    "patient.middle_name": ("patient.middle_name",),
    "patient.last_name": ("patient.last_name",),
    "patient.date_of_birth": ("patient.date_of_birth",),
    "patient.mrn": ("patient.mrn",),
    "requester.organization": ("requester.name",),
    "requester.last_name": ("requester.name",),
    "requester.email": ("requester.contact",),
    "requester.line1": ("requester.contact",),
    "records.description": ("records.description",),
    "records.date_from": ("records.date_from",),
    "records.date_to": ("records.date_to",),
    "authorization.purpose": ("authorization.purpose",),
    "authorization.expiration_date": ("authorization.expiration",),
    "authorization.expiration_event": ("authorization.expiration",),
    "authorization.signature_date": ("authorization.signature_date",),
    "authorization.representative_authority": ("authorization.representative_authority",),
}
_ELEMENT_FIELDS = {
    "information_description": "authorization.information_description",
    "disclosing_party": "authorization.disclosing_party",
    "recipient": "authorization.recipient",
    "purpose": "authorization.purpose",
    "expiration": "authorization.expiration_date",
    "signature": "authorization.signed",
    "signature_date": "authorization.signature_date",
    "statement_right_to_revoke": "authorization.statement_right_to_revoke",
    "statement_conditioning": "authorization.statement_conditioning",
    "statement_redisclosure": "authorization.statement_redisclosure",
}
#: Where intake's field names land on this form.
_ISSUE_FIELDS = {
    "requester.contact.email": "requester.email",
    "requester.contact.address": "requester.line1",
    "requester.contact.address.line1": "requester.line1",
    "requester.contact.address.city": "requester.city",
    "requester.contact.address.state": "requester.state",
    "requester.contact.address.postal_code": "requester.postal_code",
    "requester.contact.phone": "requester.phone",
    "patient": "patient.last_name",
    "records": "records.description",
    "authorization.expiration_event": "authorization.expiration_event",
}


# ---- the fax gateway's webhook -----------------------------------------------------------------


def fax_secret(settings: Settings) -> str | None:
    """The key the gateway signs with: the configured one; the demo's in local/test only."""
    if settings.inbound_fax_secret:
        return settings.inbound_fax_secret
    return DEMO_FAX_SECRET if settings.env in DEMO_ENVIRONMENTS else None


def sign(secret: str, body: bytes, at: int) -> str:
    """The signature header's value for a body sent at `at` (the gateway computes the same)."""
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def signature_ok(secret: str, header: str, body: bytes, now: float) -> bool:
    """Whether the header signs this body with the key, recently enough."""
    found = _SIGNATURE.match(header.strip())
    if not found:
        return False
    at = int(found.group(1))
    if abs(now - at) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = sign(secret, body, at).split("v1=", 1)[1]
    return hmac.compare_digest(expected, found.group(2))


def fax_site(settings: Settings, called: str | None) -> str | None:
    """The site a fax number belongs to (ROI_INBOUND_FAX_SITES); None when not configured."""
    digits = re.sub(r"\D", "", called or "")[-10:]
    if not digits:
        return None
    for item in settings.inbound_fax_sites.split(","):
        number, _, site = item.partition("=")
        if re.sub(r"\D", "", number)[-10:] == digits and site.strip() in {s.value for s in Site}:
            return site.strip()
    return None


@router.post("/api/v1/inbound/fax")
async def fax_webhook(request: Request, session: SessionDep) -> Response:
    """A fax from the gateway: the PDF or TIFF as the body, signed; 202 once it is stored."""
    ctx = ctx_of(request)
    settings = ctx.settings
    secret = fax_secret(settings)
    if secret is None:
        raise NotFound()
    body = await request.body()
    client = opaque(client_address(request))
    if not signature_ok(secret, request.headers.get(SIGNATURE_HEADER, ""), body, time.time()):
        await run_in_threadpool(
            security_log.add,
            session,
            Action.API_TOKEN,
            "failed",
            client=client,
            detail={"webhook": "fax"},
        )
        log.info("inbound.fax_signature_refused")
        return JSONResponse({"detail": "The signature is missing or wrong."}, status_code=401)
    if len(body) > settings.inbound_max_bytes:
        return JSONResponse({"detail": "The document is too large."}, status_code=413)
    if not body:
        return JSONResponse({"detail": "The body is empty."}, status_code=422)
    gateway_id = request.headers.get("X-Fax-Id", "").strip()[:200]
    key = f"fax:{hashlib.sha256(gateway_id.encode()).hexdigest()}" if gateway_id else None
    received = await inbound.receive(
        database_url=ctx.db(),
        client=await ctx.temporal(),
        task_queue=settings.task_queue,
        channel="fax",
        site=fax_site(settings, request.headers.get("X-Fax-To")),
        content=body,
        content_type=request.headers.get("content-type", "application/octet-stream"),
        sender=request.headers.get("X-Fax-From", "").strip()[:320] or None,
        source_key=key,
    )
    return JSONResponse(
        {"document_id": received.document_id, "duplicate": not received.created},
        status_code=202 if received.created else 200,
    )


# ---- the Intake list ---------------------------------------------------------------------------


def _visible(account: Account, row: documents.InboundDocument) -> bool:
    """The account's sites (a document whose site is not known: all-site staff only)."""
    return account.sites is None if row.site is None else account.covers(row.site)


def _audit(session: Session, document_id: str, actor: str, action: str, **detail: Any) -> None:
    audit(session, f"doc-{document_id}", actor, action, datetime.now(UTC), **detail)


def _one(session: Session, account: Account, document_id: str) -> documents.InboundDocument:
    row = documents.get(session, document_id)
    if row is None:
        raise NotFound()
    if not _visible(account, row):
        raise Forbidden("This document belongs to another site.")
    return row


@router.get("/intake/documents", response_class=HTMLResponse)
def intake_list(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.SUBMIT_INTAKE))],
    site: str | None = None,
) -> Response:
    """The Intake list: documents waiting at the account's sites (newest problems first: could
    not be read, then by receipt) and the submissions kept for review, oldest first."""
    account = signed.account
    sites = account.site_list
    chosen = site if site in sites else None
    rows = documents.listing(session, None if account.sites is None else sorted(sites))
    rows = [r for r in rows if chosen is None or r.site == chosen]
    kept = [
        k for k in _kept_in(session, account) if chosen is None or _site_of(k.payload) == chosen
    ]
    items: list[dict[str, Any]] = [
        {
            "type": "document",
            "id": r.id,
            "received_at": r.received_at,
            "site": r.site,
            "channel": r.channel,
            "status": r.status,
            "kind": (r.extraction or {}).get("kind"),
            "pages": r.page_count,
        }
        for r in rows
    ]
    items += [
        {
            "type": "submission",
            "id": k.id,
            "received_at": k.received_at,
            "site": _site_of(k.payload),
            "channel": k.channel,
            "status": "kept_for_review",
            "kind": k.payload.get("kind") if isinstance(k.payload, dict) else None,
            "problems": len(k.errors or []),
        }
        for k in kept
    ]
    items.sort(key=lambda i: i["received_at"])
    log.info("inbound.listed", user_id=account.id, documents=len(rows), kept=len(kept))
    return render(
        request,
        "inbound_list.html",
        {
            "items": items,
            "sites": sites,
            "chosen": chosen,
            "channels": inbound.CHANNELS,
            "notice": _NOTICES.get(next(iter(request.query_params), "")),
        },
    )


@router.post("/intake/documents/upload")
async def upload(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.SUBMIT_INTAKE))],
    file: Annotated[UploadFile, File()],
    site: Annotated[str, Form(max_length=16)],
    channel: Annotated[str, Form(max_length=16)] = "mail",
) -> Response:
    """A scan staff upload (a letter that came by mail, a fax from another machine)."""
    ctx = ctx_of(request)
    account = signed.account
    if site not in {s.value for s in Site} or not account.covers(site):
        raise Forbidden("Your account does not cover that site.")
    content = await file.read(ctx.settings.inbound_max_bytes + 1)
    if not content or len(content) > ctx.settings.inbound_max_bytes:
        return RedirectResponse("/intake/documents?problem=size", status_code=303)
    received = await inbound.receive(
        database_url=ctx.db(),
        client=await ctx.temporal(),
        task_queue=ctx.settings.task_queue,
        channel=channel if channel in inbound.CHANNELS else "mail",
        site=site,
        content=content,
        content_type=file.content_type or "application/octet-stream",
        filename=file.filename,
        uploaded_by=account.id,
    )
    await run_in_threadpool(_audit, session, received.document_id, account.id, "document.uploaded")
    return RedirectResponse(f"/intake/documents/{received.document_id}", status_code=303)


# ---- the split screen --------------------------------------------------------------------------


def _reading(row: documents.InboundDocument) -> Extraction | None:
    return Extraction.model_validate(row.extraction) if row.extraction else None


def _form_values(row: documents.InboundDocument, reading: Extraction | None) -> dict[str, str]:
    values: dict[str, str] = {"site": row.site or "", "channel": row.channel}
    if reading is not None:
        values.update(prefill(reading))
    if row.confirmed:
        values.update(row.confirmed)
    return values


def _sources(reading: Extraction | None) -> dict[str, str]:
    """For each form field, the text it was read from."""
    if reading is None:
        return {}
    found = {}
    for name, keys in _SOURCES.items():
        for key in keys:
            if key in reading.fields:
                found[name] = reading.fields[key].text
                break
    return found


def _place(issues: list[FieldIssue]) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    placed: dict[str, list[str]] = {}
    loose: list[tuple[str, str]] = []
    for found in issues:
        name = _ISSUE_FIELDS.get(found.field, found.field)
        message = plain(found).message
        if name in FORM_FIELDS:
            placed.setdefault(name, []).append(message)
        else:
            loose.append((field_label(found.field), message))
    return placed, loose


def _page_context(
    session: Session,
    account: Account,
    row: documents.InboundDocument,
    *,
    values: dict[str, str] | None = None,
    issues: list[FieldIssue] | None = None,
) -> dict[str, Any]:
    reading = _reading(row)
    pages = documents.page_numbers(session, row.id)
    text = None
    if not pages and row.content_type.startswith("text/"):
        stored = documents.content_of(session, row.id)
        text = stored[0].decode("utf-8", "replace") if stored else None
    errors, loose = _place(issues or [])
    elements = []
    if reading is not None:
        by_key = {e.element: e for e in reading.elements}
        for key, label in ELEMENTS:
            finding = by_key.get(key)
            elements.append(
                {
                    "key": key,
                    "label": label,
                    "present": bool(finding and finding.present),
                    "text": finding.reading.text if finding and finding.reading else None,
                    "field": _ELEMENT_FIELDS.get(key),
                }
            )
    return {
        "doc": row,
        "reading": reading,
        "pages": pages,
        "text": text,
        "values": values if values is not None else _form_values(row, reading),
        "sources": _sources(reading),
        "elements": elements,
        "element_labels": ELEMENT_LABELS,
        "field_labels": FIELD_LABELS,
        "sections": FORM_SECTIONS,
        "errors": errors,
        "loose": loose,
        "kinds": sorted(k.value for k in RECORD_COPY_KINDS),
        "deliveries": [d.value for d in DeliveryMethod],
        "relationships": [r.value for r in Relationship],
        "signers": [s.value for s in SignerRole],
        "sites": account.site_list,
        "channels": inbound.CHANNELS,
        "open": row.status in documents.OPEN_STATUSES,
    }


@router.get("/intake/documents/{document_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    document_id: DocumentId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.SUBMIT_INTAKE))],
) -> Response:
    """The split screen: the pages beside the fields read from them."""
    row = _one(session, signed.account, document_id)
    _audit(session, row.id, signed.account.id, "document.opened")
    log.info("inbound.opened", document_id=row.id, user_id=signed.account.id)
    context = _page_context(session, signed.account, row)
    context["saved"] = "saved" in request.query_params
    return render(request, "inbound_document.html", context)


@router.get("/intake/documents/{document_id}/pages/{page}.png")
def page_image(
    request: Request,
    document_id: DocumentId,
    page: Annotated[int, Path(ge=1, le=1000)],
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.SUBMIT_INTAKE))],
) -> Response:
    """One page image (PHI: never cached)."""
    _one(session, signed.account, document_id)
    png = documents.page_png(session, document_id, page)
    if png is None:
        raise NotFound()
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/intake/documents/{document_id}/file")
def original(
    request: Request,
    document_id: DocumentId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
) -> Response:
    """The document as it arrived (from the Intake list or the request it became): staff who
    work Intake, or who may open the request it became (its team and site)."""
    row = _one(session, signed.account, document_id)
    if row.request_id is not None and not can(signed.account.role, Can.SUBMIT_INTAKE):
        _load(session, signed.account, row.request_id)  # 403 outside its team or site
    elif not can(signed.account.role, Can.SUBMIT_INTAKE):
        raise Forbidden("Intake's documents are for the staff who work Intake.")
    stored = documents.content_of(session, document_id)
    assert stored is not None
    _audit(session, row.id, signed.account.id, "document.downloaded")
    content, content_type = stored
    safe_type = content_type if content_type in _SAFE_TYPES else "application/octet-stream"
    return Response(
        content,
        media_type=safe_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="document-{row.id}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


_SAFE_TYPES = {"application/pdf", "image/tiff", "image/png", "image/jpeg", "text/plain"}


#: What the list says after a redirect (no PHI: fixed sentences chosen by a query key).
_NOTICES = {
    "problem": "Choose a file of at most 25 MB.",
    "kept": "Intake refused it: it is kept for review in this list.",
    "discarded": "Discarded.",
}


def _posted(form: Any) -> dict[str, str]:
    return {
        name: value.strip()
        for name in FORM_FIELDS
        if isinstance(value := form.get(name), str) and value.strip()
    }


@router.post("/intake/documents/{document_id}/confirm", response_class=HTMLResponse)
async def confirm(
    request: Request,
    document_id: DocumentId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.SUBMIT_INTAKE))],
) -> Response:
    """Keep the fields as confirmed or corrected (submitted later)."""
    row = await run_in_threadpool(_one, session, signed.account, document_id)
    values = _posted(await request.form())

    def save() -> None:
        documents.confirm(session, row.id, values, signed.account.id, datetime.now(UTC))
        _audit(session, row.id, signed.account.id, "document.confirmed", fields=len(values))

    await run_in_threadpool(save)
    return RedirectResponse(f"/intake/documents/{row.id}?saved=1", status_code=303)


@router.post("/intake/documents/{document_id}/submit", response_class=HTMLResponse)
async def submit(
    request: Request,
    document_id: DocumentId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.SUBMIT_INTAKE))],
) -> Response:
    """Submit the confirmed fields as a request received when the document was (services.inbound
    stores and starts it in transactions of its own)."""
    ctx = ctx_of(request)
    account = signed.account
    row = await run_in_threadpool(_one, session, account, document_id)
    values = _posted(await request.form())
    site = values.get("site") or row.site or ""
    if row.status not in documents.OPEN_STATUSES:  # the page says what became of it
        return RedirectResponse(f"/intake/documents/{row.id}", status_code=303)
    if site not in {s.value for s in Site} or not account.covers(site):
        issues = [FieldIssue(field="site", code="site_not_allowed", message="")]
        context = await run_in_threadpool(
            _page_context, session, account, row, values=values, issues=issues
        )
        return await run_in_threadpool(
            render, request, "inbound_document.html", context, status_code=422
        )
    await run_in_threadpool(
        documents.confirm, session, row.id, values, account.id, datetime.now(UTC)
    )
    await commit(session)  # the fields are kept before the workflow service is asked
    result = await inbound.submit(
        row.id,
        values,
        database_url=ctx.db(),
        client=await ctx.temporal(),
        task_queue=ctx.settings.task_queue,
        site=site,
        channel=channel
        if (channel := values.get("channel", "")) in inbound.CHANNELS
        else row.channel,
    )
    if result.errors and result.submission_id is None:
        await run_in_threadpool(
            _audit, session, row.id, account.id, "document.submit_refused", count=len(result.errors)
        )
        context = await run_in_threadpool(
            _page_context, session, account, row, values=values, issues=result.errors
        )
        return await run_in_threadpool(
            render, request, "inbound_document.html", context, status_code=422
        )

    def record() -> None:
        now = datetime.now(UTC)
        audit(
            session,
            f"doc-{row.id}",
            account.id,
            "document.submitted",
            now,
            request_id=result.request_id,
            submission=result.submission_id,
        )
        if result.request_id:
            audit(
                session,
                result.request_id,
                account.id,
                "intake.from_document",
                now,
                document=row.id,
                channel=row.channel,
            )

    await run_in_threadpool(record)
    target = f"/requests/{result.request_id}" if result.request_id else "/intake/documents?kept=1"
    return RedirectResponse(target, status_code=303)


@router.post("/intake/documents/{document_id}/discard")
async def discard(
    request: Request,
    document_id: DocumentId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.SUBMIT_INTAKE))],
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Not a request (a cover sheet, a duplicate): out of the list, kept with the reason."""
    row = await run_in_threadpool(_one, session, signed.account, document_id)

    def drop() -> None:
        done = documents.discard(
            session, row.id, reason.strip() or "not a request", datetime.now(UTC)
        )
        if done:
            _audit(session, row.id, signed.account.id, "document.discarded")

    await run_in_threadpool(drop)
    return RedirectResponse("/intake/documents?discarded=1", status_code=303)
