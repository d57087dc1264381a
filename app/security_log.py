"""Security events of the web app and the account commands, kept in the append-only
`security_events` table (store/security.py), not only in logs.

What is recorded: sign-ins (succeeded, failed, throttled), sign-outs and every other end of a
session (idle, absolute expiry, account changed or deactivated, replaced by a new sign-in),
refusals (403 for a role or another site's request, forms from another site), throttled
download links and intake API calls, wrong intake API tokens, and changes to accounts and API
tokens. Rows carry an account's opaque id, codes, route templates and opaque request ids; never
a password, a token, a username that matches no account, or patient information. The client is
an opaque one-way label of its address (app/security.py `opaque`), as in download_access_events.
"""

from __future__ import annotations

import getpass
from enum import StrEnum
from typing import Any

import structlog
from fastapi import Request
from sqlmodel import Session

from app.security import opaque
from app.throttle import client_address
from store.db import session_scope
from store.security import record_security_event

log = structlog.get_logger(__name__)


class Action(StrEnum):
    """What a security event is about (its `action` column)."""

    LOGIN = "auth.login"  # outcome ok, failed, throttled (detail.reason on failure)
    MFA = "auth.mfa"  # outcome enrolled, ok, failed, throttled; detail.factor totp/recovery_code
    LOGOUT = "auth.logout"
    SESSION_END = "auth.session_end"  # detail.reason: idle, expired, account_inactive, ...
    FORBIDDEN = "access.forbidden"  # a 403: role, or another site's or team's request
    CROSS_SITE = "access.cross_site"  # a form or call that did not come from our own pages
    DOWNLOAD = "download.link"  # throttled link attempts (each use is in download_access_events)
    API_TOKEN = "api.token"  # a wrong bearer token (failed) or its address throttled
    API_RATE = "api.rate"  # an intake client over its requests per minute
    STATUS = "status.lookup"  # throttled public status lookups (per address, tracking number)
    ACCOUNT_CREATE = "account.create"
    ACCOUNT_ROLE = "account.role_change"
    ACCOUNT_SITES = "account.sites_change"
    ACCOUNT_DEACTIVATE = "account.deactivate"
    ACCOUNT_REACTIVATE = "account.reactivate"
    ACCOUNT_PASSWORD = "account.password_change"  # detail.how: enrolment or change
    ACCOUNT_RESET = "account.credentials_reset"  # an admin reset: password and second factor
    ENROLMENT_ISSUE = "account.enrolment_issued"  # a one-time link to set one's own password
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    THROTTLE_CLEAR = "throttle.clear"  # an admin cleared an account's sign-in delay
    BATCH_RUN = "batch.run"  # a supervisor started a site's batch by hand (detail: site, batch)
    PRIVACY_VIEW = "privacy.viewed"  # the privacy officer read a log (detail.page, filters)


def client_of(request: Request) -> str:
    """The opaque label of the request's client address (ROI_TRUSTED_PROXIES applied)."""
    return opaque(client_address(request, request.app.state.ctx.settings.trusted_proxies))


def cli_actor() -> str:
    """Who ran an account command from the shell: the operating-system user, as `cli:<name>`."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # no passwd entry (a container's numeric user)
        return "cli"


def add(
    session: Session,
    action: Action,
    outcome: str,
    *,
    actor: str | None = None,
    client: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One event in the caller's transaction."""
    record_security_event(
        session, action=action.value, outcome=outcome, actor=actor, client=client, detail=detail
    )


def record(
    database_url: str,
    action: Action,
    outcome: str,
    *,
    actor: str | None = None,
    client: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One event in a transaction of its own."""
    with session_scope(database_url) as session:
        add(session, action, outcome, actor=actor, client=client, detail=detail)


def _route(request: Request) -> str:
    """The route's template (`/requests/{request_id}`), never the path with its values."""
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    return template if isinstance(template, str) else "unmatched"


def refusal(request: Request, action: Action, reason: str) -> None:
    """A 403 as a security event: the account, the route template, the method and the opaque
    request id when the route names one. Never fails the answer: a write that fails is logged."""
    from app.auth import optional_staff  # (app.auth records its own events through here)

    detail: dict[str, Any] = {"route": _route(request), "method": request.method, "reason": reason}
    request_id = request.path_params.get("request_id")
    if isinstance(request_id, str) and len(request_id) == 26 and request_id.isalnum():
        detail["request_id"] = request_id
    try:
        signed = getattr(request.state, "signed", None) or optional_staff(request)
        record(
            request.app.state.ctx.db(),
            action,
            "refused",
            actor=signed.account.id if signed else None,
            client=client_of(request),
            detail=detail,
        )
    except Exception as error:
        log.warning("security_event.not_recorded", action=action.value, error=type(error).__name__)
