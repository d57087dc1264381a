"""Account administration (admins only; no access to requests or PHI). Creating, resetting
and changing an account are app.accounts' commands, each a transaction of its own as from
`roi users`; the page's own reads and writes use the request's session."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import security_log, sessions
from app.accounts import (
    AccountError,
    Enrolment,
    count_admins,
    create_user,
    list_users,
    reset_credentials,
    update_user,
)
from app.auth import Signed, ctx_of, need, set_flash
from app.context import NotFound
from app.deps import SessionDep
from app.render import render
from app.roles import Can, Role
from domain.types import Site
from store import staff

router = APIRouter(tags=["admin"], include_in_schema=False)
log = structlog.get_logger(__name__)


def _page(
    request: Request,
    session: Session,
    error: str | None = None,
    status_code: int = 200,
    enrolment: Enrolment | None = None,
) -> Response:
    """The accounts page; with `enrolment`, its one-time link shown this once (never stored
    in clear, never in a flash message or a log)."""
    ctx = ctx_of(request)
    # the configured public address, not the request's Host header (which a client chooses):
    # a forged Host must not make the admin hand out a link to someone else's server
    base = ctx.settings.public_base_url or str(request.base_url)
    link = enrolment.link(base) if enrolment else None
    return render(
        request,
        "admin_users.html",
        {
            "users": list_users(session),
            "session_counts": sessions.session_counts(session, ctx.web.session_idle_minutes),
            "roles": [r.value for r in Role],
            "sites": [s.value for s in Site],
            "error": error,
            "enrolment": enrolment,
            "enrolment_link": link,
        },
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    session: SessionDep,
    _: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
) -> Response:
    return _page(request, session)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=32)],
    sites: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A new account has no password: its owner sets one through the link shown here once.
    (A `password` field, if one is sent, is ignored: admins never choose one.)"""
    ctx = ctx_of(request)
    try:
        enrolment = create_user(
            ctx.db(),
            username,
            role,
            sites or [],
            by=signed.account.id,
            hours=ctx.web.enrolment_hours,
        )
    except AccountError as error:
        return _page(request, session, str(error), status_code=422)
    log.info("admin.user_created", user_id=enrolment.user_id, by=signed.account.id, role=role)
    return _page(request, session, enrolment=enrolment)


@router.post("/admin/users/{user_id}/reset", response_class=HTMLResponse)
def reset_user(
    request: Request,
    user_id: Annotated[str, Path(pattern=r"^[0-9a-z]{26}$")],
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
) -> Response:
    """The account's password and second factor stop working, its sessions end, and its owner
    gets a new one-time link (shown here once) to set new ones."""
    ctx = ctx_of(request)
    if user_id == signed.account.id:
        return _page(request, session, "Change your own password on Your account.", 422)
    try:
        enrolment = reset_credentials(
            ctx.db(), user_id, by=signed.account.id, hours=ctx.web.enrolment_hours
        )
    except AccountError as error:
        return _page(request, session, str(error), status_code=422)
    log.info("admin.user_reset", user_id=user_id, by=signed.account.id)
    return _page(request, session, enrolment=enrolment)


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def change_user(
    request: Request,
    user_id: Annotated[str, Path(pattern=r"^[0-9a-z]{26}$")],
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
    role: Annotated[str, Form(max_length=32)],
    active: Annotated[str | None, Form()] = None,
    sites: Annotated[list[str] | None, Form()] = None,
) -> Response:
    ctx = ctx_of(request)
    is_active = active == "on"
    if user_id == signed.account.id and (not is_active or role != Role.ADMIN.value):
        return _page(request, session, "You cannot demote or deactivate your own account.", 422)
    try:
        update_user(
            ctx.db(),
            user_id,
            role=role,
            sites=sites or [],
            active=is_active,
            by=signed.account.id,
        )
    except AccountError as error:
        return _page(request, session, str(error), status_code=422)
    if count_admins(session) == 0:  # pragma: no cover - guarded above
        update_user(ctx.db(), user_id, role=Role.ADMIN.value, active=True, by=signed.account.id)
    log.info("admin.user_changed", user_id=user_id, by=signed.account.id)
    set_flash(session, signed, "Account updated; its sessions were signed out.")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/sessions/end")
def end_user_sessions(
    request: Request,
    user_id: Annotated[str, Path(pattern=r"^[0-9a-z]{26}$")],
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
) -> Response:
    """Sign the account out everywhere: every session of it ends (an admin's own: every one
    but the session doing this). Each is a security event; each is signed out on its next
    request."""
    user = staff.user(session, user_id)
    username = user.username if user else None
    if username is None:
        raise NotFound()
    ended = sessions.end_sessions(
        session,
        user_id,
        by=signed.account.id,
        keep_hash=signed.token_hash if user_id == signed.account.id else None,
        client=security_log.client_of(request),
        reason=sessions.BY_ADMIN,
    )
    log.info("admin.sessions_ended", user_id=user_id, by=signed.account.id, ended=ended)
    message = (
        f"{ended} session{'s' if ended != 1 else ''} of {username} ended: signed out."
        if ended
        else f"{username} had no sessions to end."
    )
    set_flash(session, signed, message)
    return RedirectResponse("/admin/users", status_code=303)
