"""Admins' credential chores from the web app (no access to requests or PHI):

- intake API tokens (the portal, a fax gateway): listed without their secret, created (the
  token is shown on the answering page once, never stored in clear, never in a flash message or
  a log) and revoked, through app.accounts.create_api_token / revoke_api_token as
  `roi users create-token` does (each a security event);
- an account's sign-in delay cleared (app.throttle.clear_login_delay), a `throttle.clear`
  security event.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import security_log, throttle
from app.accounts import AccountError, create_api_token, list_api_tokens, revoke_api_token
from app.auth import Signed, ctx_of, need, set_flash
from app.context import NotFound
from app.deps import SessionDep
from app.render import render
from app.roles import Can
from store import staff

router = APIRouter(tags=["admin"], include_in_schema=False)
log = structlog.get_logger(__name__)

TokenName = Annotated[str, Path(pattern=r"^[0-9a-z._-]{3,64}$")]
UserId = Annotated[str, Path(pattern=r"^[0-9a-z]{26}$")]


def _tokens_page(
    request: Request,
    session: Session,
    *,
    created: tuple[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    name: str = "",
    status_code: int = 200,
) -> Response:
    response = render(
        request,
        "admin_tokens.html",
        {
            "tokens": list_api_tokens(session),
            "created": created,
            "errors": errors or {},
            "name": name,
        },
        status_code=status_code,
    )
    if created:
        response.headers["Cache-Control"] = "no-store"  # the secret is on this page only
    return response


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens_page(
    request: Request,
    session: SessionDep,
    _: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
) -> Response:
    return _tokens_page(request, session)


@router.post("/admin/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
    name: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """A new intake token: its secret is on this answer only (only its hash is kept)."""
    ctx = ctx_of(request)
    if not name.strip():
        return _tokens_page(
            request, session, errors={"name": ["This is required."]}, status_code=422
        )
    try:
        token = create_api_token(ctx.db(), name, by=signed.account.id)
    except AccountError as error:
        message = str(error).replace("A username is", "A client name is")
        return _tokens_page(
            request, session, errors={"name": [message]}, name=name, status_code=422
        )
    label = name.strip().lower()
    log.info("admin.token_created", client=label, by=signed.account.id)  # never the token
    return _tokens_page(request, session, created=(label, token))


@router.post("/admin/tokens/{name}/revoke")
def revoke_token(
    request: Request,
    name: TokenName,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
) -> Response:
    ctx = ctx_of(request)
    try:
        revoke_api_token(ctx.db(), name, by=signed.account.id)
    except AccountError as error:
        return _tokens_page(request, session, errors={"revoke": [str(error)]}, status_code=422)
    log.info("admin.token_revoked", client=name, by=signed.account.id)
    set_flash(session, signed, f"The token of {name} is revoked: it no longer works.")
    return RedirectResponse("/admin/tokens", status_code=303)


@router.post("/admin/users/{user_id}/sign-in-delay/clear")
def clear_sign_in_delay(
    request: Request,
    user_id: UserId,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.MANAGE_USERS))],
) -> Response:
    """Forget the account's failed sign-ins, so its owner may sign in again at once (after
    checking who they are). The per-address count is left alone."""
    user = staff.user(session, user_id)
    if user is None:
        raise NotFound()
    username = user.username
    was = throttle.clear_login_delay(session, username)
    security_log.add(
        session,
        security_log.Action.THROTTLE_CLEAR,
        "ok",
        actor=signed.account.id,
        client=security_log.client_of(request),
        detail={"account": user_id, "failures": was.count, "was_waiting": was.waiting},
    )
    log.info("admin.sign_in_delay_cleared", user_id=user_id, by=signed.account.id)
    message = (
        f"{username} may sign in again now: the sign-in delay is cleared."
        if was.count
        else f"{username} had no failed sign-ins to clear."
    )
    set_flash(session, signed, message)
    return RedirectResponse("/admin/users", status_code=303)
