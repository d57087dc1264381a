"""A request: the page (PHI, audited), its actions (Temporal Updates), claims, audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from activities.channels.wiring import build_source
from app import detail, forms, offers, plain
from app.accounts import Account
from app.auth import Signed, ctx_of, need, set_flash
from app.context import AppContext, Forbidden, NotFound, Unavailable
from app.deps import SessionDep, commit
from app.render import render
from app.roles import Can, Role, can, teams_of
from domain import actions
from domain.calendar import local_date
from domain.contacts import team_contact
from domain.errors import FieldIssue
from domain.sites import site_profile
from domain.state import representative_role
from domain.types import (
    FINISHED_FOR_STAFF,
    RECORD_COPY_KINDS,
    TERMINAL_STATUSES,
    RequestKind,
    Site,
    Status,
)
from services import friends_family, imaging, links, packet_preview
from services.staff import ActionRefused, current_state, perform
from store import documents as inbound_documents
from store import friends_family as family_rows
from store import portal as portal_rows
from store import queue, request_detail, requests, staff
from store.audit import audit
from store.documents import InboundDocument
from store.models import OutboundItem, RecordRequest
from store.portal import SignedDocumentInfo, UploadInfo
from store.receipts import Receipts
from store.receipts import receipts as receipts_of
from store.web_models import StaffUser

router = APIRouter(tags=["requests"], include_in_schema=False)
log = structlog.get_logger(__name__)

#: A request's id as routes take it (a lower-case ULID); forms naming requests check the same.
REQUEST_ID_PATTERN = r"^[0-9a-z]{26}$"
RequestId = Annotated[str, Path(pattern=REQUEST_ID_PATTERN)]


def _load(
    session: Session, account: Account, request_id: str, *, oversight: bool = False
) -> RecordRequest:
    """The request row, if the account's teams and sites cover it (403 otherwise). With
    `oversight` (a read of what was done, never PHI of the page itself), a role with
    Can.OVERSIGHT (the privacy officer) is covered for every team at its sites."""
    row = requests.request_row(session, request_id)
    if row is None:
        raise NotFound()
    any_team = oversight and can(account.role, Can.OVERSIGHT)
    if (not any_team and row.team not in teams_of(account.role)) or not account.covers(row.site):
        raise Forbidden("This request belongs to another site or team.", reason="site")
    session.expunge(row)
    return row


@dataclass
class PageData:
    row: RecordRequest
    events: list[Any]
    documents: list[OutboundItem]
    stored: dict[str, Any] | None
    names: dict[str, str]
    staff_choices: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[Any, int, int]] = field(default_factory=list)  # link, served, refused
    receipts: Receipts = field(default_factory=Receipts)  # FedEx tracking, payments
    received: list[InboundDocument] = field(default_factory=list)  # what it was made from
    #: what the requester signed electronically on the portal (sealed PDFs)
    signed: list[SignedDocumentInfo] = field(default_factory=list)
    #: the documents the requester uploaded on the portal (re-encoded, encrypted at rest)
    uploads: list[UploadInfo] = field(default_factory=list)
    #: the patient's friends-and-family agreements in force (164.510(b)), by patient key
    family: list[friends_family.OnFileView] = field(default_factory=list)


def _page_data(session: Session, account: Account, request_id: str, *, view: bool) -> PageData:
    """Everything from PostgreSQL, in the route's transaction; the view itself is audited
    here."""
    now = datetime.now(UTC)
    row = _load(session, account, request_id)
    if view:
        audit(session, request_id, account.id, "request.viewed", now)
        queue.touch(session, account, request_id, now)
    events = request_detail.timeline(session, request_id, include_reads=False)
    documents = request_detail.documents(session, request_id)
    stored = request_detail.stored_submission(session, request_id)
    found = receipts_of(session, request_id, row.site)
    actors = {e.actor for e in events} | ({row.assignee} if row.assignee else set())
    names = staff.usernames(session, actors)
    choices: list[tuple[str, str]] = []
    if can(account.role, Can.REASSIGN):
        choices = reassign_choices(session, [(row.team, row.site)])
    return PageData(
        row,
        events,
        documents,
        stored,
        names,
        choices,
        links.links_of(session, request_id),
        found,
        inbound_documents.for_request(session, request_id),
        portal_rows.signed_documents_for_request(session, request_id),
        portal_rows.uploads_for_request(session, request_id),
        friends_family.on_file(session, row.patient_key, local_date(Site(row.site), now)),
    )


def may_take(user: StaffUser, team: str, site: str) -> bool:
    """Whether a request of this team and site may be given to the staff member (reassign):
    an active account whose role works the team and whose sites include the site."""
    return (
        user.active
        and user.role != Role.ADMIN.value
        and team in teams_of(user.role)
        and (user.all_sites or site in user.sites)
    )


def reassign_choices(session: Session, places: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(id, username) of the active staff a supervisor may give a request to: those who may
    take at least one of these (team, site) places, by username."""
    wanted = set(places)
    return [
        (user.id, user.username)
        for user in staff.active_users(session)
        if any(may_take(user, team, site) for team, site in wanted)
    ]


def _claim_state(ctx: AppContext, row: RecordRequest, now: datetime) -> str:
    if row.assignee is None or row.claimed_at is None:
        return "unclaimed"
    if row.claimed_at < now - timedelta(minutes=ctx.web.claim_timeout_minutes):
        return "expired"
    return "claimed"


def _default_focus(status: str) -> str:
    return {
        Status.AWAITING_VERIFICATION.value: "verify-method",
        Status.READY_TO_RELEASE.value: "complete-button",
    }.get(status, "next-button")


async def _page(
    request: Request,
    session: Session,
    signed: Signed,
    request_id: str,
    *,
    view: bool,
    errors: dict[str, dict[str, list[str]]] | None = None,
    values: dict[str, Any] | None = None,
    open_form: str | None = None,
    status_code: int = 200,
    family_check: dict[str, Any] | None = None,
) -> Response:
    ctx = ctx_of(request)
    account = signed.account
    data = await run_in_threadpool(_page_data, session, account, request_id, view=view)
    await commit(session)  # the view is on record before the workflow is asked
    row = data.row
    live = await detail.live_state(await ctx.temporal(), row)
    now = datetime.now(UTC)
    site = Site(row.site)
    today = local_date(site, now)
    sub = detail.record_submission(live, data.stored) if live.case is None else None
    record = live.record
    checklist = legal = None
    if sub is not None:
        legal = detail.legal_checklist(sub, today)
        # a court order is its own basis; a subpoena needs the 164.508 form only if one came
        if (
            sub.needs_authorization
            and sub.kind != RequestKind.COURT_ORDER
            and (legal is None or sub.authorization is not None)
        ):
            checklist = detail.authorization_checklist(sub.authorization, today)
    deficiencies = (
        record.deficiencies
        if record is not None
        else [FieldIssue(**d) for d in (row.summary or {}).get("deficiencies", [])]
    )
    status = (
        record.status.value if record else (live.case.status.value if live.case else row.status)
    )
    hold = _current_hold(data.events, status)
    # what the imaging archive holds for the patient and dates, asked live (short timeout)
    archive = (
        await run_in_threadpool(imaging.archive_counts, ctx.settings, sub, row.id)
        if row.kind == RequestKind.IMAGING.value
        else None
    )
    offer = offers.offered(row.kind, status, live, frozenset(hold), now)
    specs = offer.specs if can(account.role, Can.ACT) else []
    if open_form and open_form not in {s.name for s in specs} and open_form in forms.BY_NAME:
        specs.append(forms.BY_NAME[open_form])  # the refused form stays, with its reasons
    context = {
        "row": row,
        "status": status,
        "live": live,
        "sub": sub,
        "case": live.case,
        "record": record,
        "stored": data.stored,
        "checklist": checklist,
        "legal": legal,
        "blocked": offer.blocked if can(account.role, Can.ACT) else {},
        "deficiencies": deficiencies,
        "clocks": detail.clocks_for(row, now),
        "events": data.events,
        "documents": data.documents,
        "received": data.received,
        "signed": data.signed,
        "uploads": data.uploads,
        "family": data.family,
        "family_check": family_check,
        "links": data.links,
        "receipts": data.receipts,
        "contact": team_contact(row.team),
        "site_profile": site_profile(site),
        "names": data.names,
        "staff_choices": data.staff_choices,
        "claim_state": _claim_state(ctx, row, now),
        "assignee_name": data.names.get(row.assignee or "", None),
        "mine": row.assignee == account.id,
        "hold": hold,
        "archive": archive,
        # someone signed for the patient on an authorization: verify names the document seen
        "representative": sub is not None
        and not sub.under_right_of_access
        and representative_role(sub) is not None,
        "specs": specs,
        "spec_names": {s.name for s in specs},
        "errors": errors or {},
        "values": values or {},
        "open_form": open_form,
        "focus": open_form or _default_focus(status),
        "forms": forms,
        "today": today,
        "now": now,
        "deficiency_catalogue": list(forms.DEFICIENCIES.values()),
        "terminal_statuses": TERMINAL_STATUSES,
        "finished_statuses": FINISHED_FOR_STAFF,
    }
    return await run_in_threadpool(
        render, request, "request.html", context, status_code=status_code
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
async def request_page(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
) -> Response:
    return await _page(request, session, signed, request_id, view=True)


def _form_dict(raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in raw:
        if key == "csrf_token":
            continue
        values = [v for v in raw.getlist(key) if isinstance(v, str)]
        out[key] = (
            values
            if len(values) > 1 or key in ("deficiency", "authorization.combined_with")
            else (values[0] if values else "")
        )
    return out


def _place(spec: forms.ActionSpec, issues: list[FieldIssue]) -> dict[str, list[str]]:
    placed: dict[str, list[str]] = {}
    for found in issues:
        placed.setdefault(spec.place(found), []).append(plain.plain(found).message)
    return placed


async def _keep_what_the_form_does_not_show(
    client: Client, request_id: str, payload: actions.CorrectAuthorization
) -> actions.CorrectAuthorization:
    """The correction form has no 42 CFR Part 2 consent fields: a consent already on file stays
    with the corrected authorization instead of being dropped by it."""
    if payload.authorization.part2_consent is not None:
        return payload
    current = (await current_state(client, request_id)).submission.authorization
    if current is None or current.part2_consent is None:
        return payload
    kept = payload.authorization.model_copy(update={"part2_consent": current.part2_consent})
    return payload.model_copy(update={"authorization": kept})


@router.post("/requests/{request_id}/actions/{action}", response_class=HTMLResponse)
async def act(
    request: Request,
    request_id: RequestId,
    action: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.ACT))],
) -> Response:
    """Send one staff action to the workflow; a refusal comes back next to its field."""
    ctx = ctx_of(request)
    account = signed.account
    row = await run_in_threadpool(_load, session, account, request_id)
    await commit(session)  # no transaction waits on the workflow's answer
    spec = forms.BY_NAME.get(action)
    if spec is None or row.kind not in spec.kinds:
        raise NotFound()
    form = _form_dict(await request.form())
    problems: list[FieldIssue] = []
    try:
        payload = spec.build(form, account.id)
    except forms.FormProblem as problem:
        problems = problem.issues
    result = None
    if not problems:
        client = await ctx.temporal()
        if client is None:
            raise Unavailable("workflow service")
        if isinstance(payload, actions.CorrectAuthorization):
            payload = await _keep_what_the_form_does_not_show(client, request_id, payload)
        try:
            result = await perform(
                client, request_id, payload, update=forms.update_for(spec, row.kind)
            )
        except ActionRefused as refused:
            problems = refused.issues or [
                FieldIssue(field="", code="refused", message=refused.message)
            ]
    now = datetime.now(UTC)

    def after() -> None:
        if problems:
            audit(
                session,
                request_id,
                account.id,
                "action.refused",
                now,
                action=spec.name,
                codes=[p.code for p in problems],
            )
        queue.touch(session, account, request_id, now)

    await run_in_threadpool(after)
    if problems:
        log.info(
            "request.action_refused",
            request_id=request_id,
            action=spec.name,
            codes=[p.code for p in problems],
        )
        return await _page(
            request,
            session,
            signed,
            request_id,
            view=False,
            errors={spec.name: _place(spec, problems)},
            values={spec.name: form},
            open_form=spec.name,
            status_code=422,
        )
    log.info("request.action", request_id=request_id, action=spec.name, user_id=account.id)
    await run_in_threadpool(set_flash, session, signed, result.message if result else "Done.")
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


# ---- claims ---------------------------------------------------------------------------------


@router.post("/requests/{request_id}/claim")
def claim(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.WORK_QUEUE))],
) -> Response:
    ctx = ctx_of(request)
    now = datetime.now(UTC)
    _load(session, signed.account, request_id)
    ok = queue.claim(
        session,
        signed.account,
        request_id,
        now,
        timedelta(minutes=ctx.web.claim_timeout_minutes),
    )
    set_flash(
        session,
        signed,
        "Claimed." if ok else "Someone else is working on this request.",
        "ok" if ok else "error",
    )
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


@router.post("/requests/{request_id}/release")
def release(
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.WORK_QUEUE))],
) -> Response:
    _load(session, signed.account, request_id)
    ok = queue.release(
        session,
        signed.account,
        request_id,
        datetime.now(UTC),
        anyone=can(signed.account.role, Can.REASSIGN),
    )
    set_flash(
        session,
        signed,
        "Released back to the queue." if ok else "It was not claimed by you.",
        "ok" if ok else "error",
    )
    return RedirectResponse("/queue", status_code=303)


@router.post("/requests/{request_id}/reassign")
def reassign(
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.REASSIGN))],
    to: Annotated[str, Form(max_length=32)],
) -> Response:
    row = _load(session, signed.account, request_id)
    target = staff.user(session, to)
    if target is None or not may_take(target, row.team, row.site):
        ok = False
    else:
        ok = queue.reassign(session, signed.account, request_id, target, datetime.now(UTC))
    set_flash(
        session,
        signed,
        "Reassigned." if ok else "That person cannot work this request (team or site).",
        "ok" if ok else "error",
    )
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


@router.post("/requests/{request_id}/family-check", response_class=HTMLResponse)
async def family_check(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
    caller_name: Annotated[str, Form(max_length=200)],
    caller_relationship: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A family member calls: does an agreement in force name them (164.510(b))? The answer
    is audited (who asked, on which request, the answer and the agreement), never the name."""

    def check() -> friends_family.CallAnswerView:
        now = datetime.now(UTC)
        row = _load(session, signed.account, request_id)
        today = local_date(Site(row.site), now)
        answer = friends_family.check_call(
            friends_family.on_file(session, row.patient_key, today), caller_name, today
        )
        audit(
            session,
            request_id,
            signed.account.id,
            "family_call.checked",
            now,
            answer="may_be_told" if answer.allowed else "no_authorization",
            authorization=answer.authorization_id,
        )
        return friends_family.CallAnswerView(answer, caller_name, caller_relationship)

    found = await run_in_threadpool(check)
    await commit(session)
    return await _page(
        request, session, signed, request_id, view=False, family_check={"result": found}
    )


@router.post("/requests/{request_id}/family/{authorization_id}/revoke")
def revoke_family_authorization(
    request_id: RequestId,
    authorization_id: Annotated[str, Path(pattern=r"^[0-9A-Z]{26}$")],
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.ACT))],
) -> Response:
    """End a friends-and-family agreement because the patient asked (164.510(b)): it stops
    answering family calls at once; audited on the request."""
    row = _load(session, signed.account, request_id)  # the account may work this request
    now = datetime.now(UTC)
    ended = row.patient_key is not None and family_rows.revoke(
        session, authorization_id, row.patient_key, now
    )
    if ended:
        audit(
            session,
            request_id,
            signed.account.id,
            "family_authorization.revoked",
            now,
            authorization=authorization_id,
        )
    log.info("request.family_revoked", request_id=request_id, ended=ended)
    set_flash(
        session,
        signed,
        "The friends-and-family authorization is ended."
        if ended
        else "No such authorization in force for this patient.",
        "ok" if ended else "error",
    )
    return RedirectResponse(f"/requests/{request_id}#friends-family", status_code=303)


@router.post("/requests/{request_id}/links/revoke")
def revoke_links(
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.ACT))],
) -> Response:
    """Withdraw the request's download links (sent to the wrong address, or asked to)."""
    _load(session, signed.account, request_id)  # the account may work this request
    count = links.revoke(
        session, request_id=request_id, actor=signed.account.id, at=datetime.now(UTC)
    )
    log.info("request.links_revoked", request_id=request_id, links=count)
    set_flash(
        session,
        signed,
        f"{count} download link(s) revoked." if count else "No live download link.",
        "ok" if count else "error",
    )
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


# ---- audit trail and documents ----------------------------------------------------------------


@router.get("/requests/{request_id}/audit", response_class=HTMLResponse)
def audit_trail(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.AUDIT_TRAIL))],
) -> Response:
    """Who viewed or changed the request, and when (reads included), and every use of its
    download links (served, refused, asked for the date of birth). The view is audited."""
    now = datetime.now(UTC)
    row = _load(session, signed.account, request_id, oversight=True)
    audit(session, request_id, signed.account.id, "audit.viewed", now)
    events = request_detail.timeline(session, request_id, include_reads=True)
    return render(
        request,
        "audit.html",
        {
            "row": row,
            "events": events,
            "names": staff.usernames(session, {e.actor for e in events}),
            "links": links.links_of(session, request_id),
            "accesses": links.access_events(session, request_id),
        },
    )


@router.get("/requests/{request_id}/documents/{item_id}")
def document(
    request: Request,
    request_id: RequestId,
    item_id: int,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
) -> Response:
    ctx = ctx_of(request)
    _load(session, signed.account, request_id)
    item = request_detail.outbound_item(session, item_id)
    if item is None or item.request_id != request_id:
        raise NotFound()
    path = detail.document_path(item, ctx.settings.outbox_path)
    if path is None:
        raise NotFound()
    audit(
        session,
        request_id,
        signed.account.id,
        "document.viewed",
        datetime.now(UTC),
        item=item_id,
    )
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})


@router.get("/requests/{request_id}/signed/{document_id}.pdf")
def signed_document(
    request: Request,
    request_id: RequestId,
    document_id: Annotated[str, Path(pattern=r"^[0-9A-Z]{26}$")],
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
) -> Response:
    """The authorization the requester signed on the portal, sealed (PAdES): only for staff
    whose team and site cover the request; each opening is audited."""
    _load(session, signed.account, request_id)
    content = portal_rows.signed_document(session, request_id, document_id)
    if content is None:
        raise NotFound()
    audit(
        session,
        request_id,
        signed.account.id,
        "signed_authorization.viewed",
        datetime.now(UTC),
        document=document_id,
    )
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'inline; filename="signed-authorization.pdf"',
        },
    )


#: The file name staff's browser is given for each uploaded type.
_UPLOAD_SUFFIX = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@router.get("/requests/{request_id}/uploads/{upload_id}")
def uploaded_document(
    request: Request,
    request_id: RequestId,
    upload_id: Annotated[str, Path(pattern=r"^[0-9A-Z]{26}$")],
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
) -> Response:
    """A document the requester uploaded on the portal, as the portal re-encoded it, decrypted
    only for staff whose team and site cover the request; each opening is audited."""
    _load(session, signed.account, request_id)
    found = portal_rows.upload(
        session, request_id, upload_id, ctx_of(request).settings.payload_keys
    )
    if found is None:
        raise NotFound()
    media_type, content = found
    audit(
        session,
        request_id,
        signed.account.id,
        "uploaded_document.viewed",
        datetime.now(UTC),
        document=upload_id,
    )
    suffix = _UPLOAD_SUFFIX.get(media_type, "bin")
    return Response(
        content,
        media_type=media_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="uploaded-document.{suffix}"',
        },
    )


def _current_hold(events: list[Any], status: str) -> list[str]:
    """Why the release is held, if it is: the reason codes of the latest hold still open while
    the request waits with a specialist (a sensitive review answers its reason)."""
    if status != Status.READY_TO_RELEASE.value:
        return []
    codes: list[str] = []
    for event in events:
        if event.action == "release.held":
            codes = [str(c) for c in (event.detail or {}).get("codes", [])]
        elif event.action in ("release.approved", "request.completed"):
            codes = []
        elif event.action == "sensitive.reviewed":
            codes = [c for c in codes if c != "sensitive_review_required"]
    return codes


# ---- the release packet, before it leaves ----------------------------------------------------


async def _packet(
    request: Request, session: Session, signed: Signed, request_id: str, action: str
) -> tuple[
    RecordRequest, packet_preview.PacketPreview | None, str | None, list[Any], detail.LiveState
]:
    """The packet the release would send now (the deliver activity's own gather), the view
    audited; None with a reason when the workflow cannot be asked."""
    ctx = ctx_of(request)
    account = signed.account
    now = datetime.now(UTC)

    def load() -> tuple[RecordRequest, list[Any]]:
        row = _load(session, account, request_id)
        if RequestKind(row.kind) not in RECORD_COPY_KINDS:
            raise NotFound()
        audit(session, request_id, account.id, action, now)
        return row, request_detail.timeline(session, request_id, include_reads=False)

    row, events = await run_in_threadpool(load)
    await commit(session)  # the view is on record before the workflow is asked
    live = await detail.live_state(await ctx.temporal(), row)
    if live.record is None:
        return row, None, live.error or "The workflow's state is not available.", events, live
    reviewed = [e.actor for e in events if e.action == "sensitive.reviewed"]
    state = live.record
    found = await run_in_threadpool(
        lambda: packet_preview.preview(
            build_source(ctx.settings),
            state,
            database_url=ctx.db(),
            sensitive_reviewed_by=reviewed[-1] if reviewed else None,
        )
    )
    log.info("request.packet_previewed", request_id=request_id, user_id=account.id)
    return row, found, None, events, live


@router.get("/requests/{request_id}/packet", response_class=HTMLResponse)
async def packet_page(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
) -> Response:
    """What the release would send: each document, the patient on it, its pages."""
    row, found, error, events, live = await _packet(
        request, session, signed, request_id, "packet.previewed"
    )
    status = live.record.status.value if live.record else row.status
    hold = frozenset(_current_hold(events, status))
    offer = offers.offered(row.kind, status, live, hold, datetime.now(UTC))
    may_release = can(signed.account.role, Can.ACT) and "complete" in {s.name for s in offer.specs}
    return await run_in_threadpool(
        render,
        request,
        "packet.html",
        {
            "row": row,
            "preview": found,
            "error": error,
            "sub": live.record.submission if live.record else None,
            "may_release": may_release,
            "blocked": offer.blocked.get("complete", []),
        },
    )


@router.get("/requests/{request_id}/packet.pdf")
async def packet_pdf(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.VIEW_REQUEST))],
) -> Response:
    """The records the release would send, as one PDF in packet order (a view, audited)."""
    _, found, _, _, _ = await _packet(request, session, signed, request_id, "packet.pdf_viewed")
    if found is None or found.pdf is None:
        raise NotFound()
    return Response(
        found.pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'inline; filename="packet-preview.pdf"',
        },
    )
