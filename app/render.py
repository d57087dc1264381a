"""Rendering pages: the shared template context, filters, cookies and no-cache headers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.auth import anon_csrf, ctx_of, optional_staff, pop_flash, set_csrf_cookie
from app.roles import LABELS, Can, Role, can
from domain.calendar import business_days_between, local_date, local_datetime
from domain.fees import format_usd
from domain.types import Site


def words(value: Any) -> str:
    """snake_case code as words ("awaiting_verification" -> "awaiting verification")."""
    return str(value or "").replace("_", " ")


_CODE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")


def plain(value: Any) -> str:
    """A submitted value as a person reads it: mappings as "label: value", lists one by one,
    nothing left out shown as a dash (never a Python repr)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict):
        parts = [f"{words(k)}: {plain(v)}" for k, v in value.items() if v not in (None, "", [])]
        return "; ".join(parts) or "—"
    if isinstance(value, list | tuple):
        if all(isinstance(v, dict) for v in value):
            return " · ".join(
                ", ".join(plain(v) for v in item.values() if v not in (None, "", []))
                for item in value
            )
        return ", ".join(plain(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return (
        words(value)
        if isinstance(value, str) and value.islower() and " " not in value
        else str(value)
    )


def when(value: datetime | None, fmt: str = "%a %b %d %Y, %H:%M") -> str:
    return value.strftime(fmt) if value else "—"


def day(value: date | datetime | None) -> str:
    return value.strftime("%a %b %d %Y") if value else "—"


def money(cents: int | None) -> str:
    return format_usd(cents or 0)


def local_day(site: str, instant: datetime | None) -> str:
    """An instant as the site's local date (due dates are met any time that day)."""
    if instant is None:
        return "—"
    return local_datetime(Site(site), instant).strftime("%b %d")


def business_days_left(site: str, due: date, now: datetime) -> int:
    """Business days from today at the site to `due` (negative: overdue)."""
    site_ = Site(site)
    return business_days_between(site_, local_date(site_, now), due)


def role_label(role: str) -> str:
    try:
        return LABELS[Role(role)]
    except ValueError:
        return role


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page. Call from a worker thread (it may read the session's one-time message)."""
    app_ctx = ctx_of(request)
    signed = request.state.signed if hasattr(request.state, "signed") else optional_staff(request)
    flash = None
    if signed is not None and app_ctx.database_url:
        flash = pop_flash(app_ctx.database_url, signed)
    me = signed.account if signed and not signed.pending else None
    data = {
        "me": me,
        "csrf": signed.csrf if signed else anon_csrf(request),
        "flash": flash,
        "can": (lambda cap: can(me.role, Can(cap))) if me else (lambda cap: False),
        "words": words,
        "plain": plain,
        "when": when,
        "day": day,
        "money": money,
        "role_label": role_label,
        "local_day": local_day,
        "bdays": business_days_left,
        "path": request.url.path,
        **(context or {}),
    }
    response = app_ctx.templates.TemplateResponse(
        request, template, data, status_code=status_code, headers=headers
    )
    new_anon = getattr(request.state, "new_anon_csrf", None)
    if new_anon and signed is None:
        set_csrf_cookie(response, new_anon, app_ctx.web)
    return response
