"""Rendering portal pages: one Jinja2 environment per language, each with its gettext catalog
installed (`{% trans %}` and `_()` in templates), and the page's language, direction, CSRF
token and cookies."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain.types import Language
from portal import i18n
from portal.security import LANG_COOKIE, cookie_name, csrf_token, set_cookies

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment(language: Language) -> Environment:
    """The templates with this language's catalog (new-style gettext: autoescaped, `%(name)s`
    placeholders filled by keyword)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension
    return env


def language_of(request: Request) -> Language:
    """The page's language (?lang=, cookie, Accept-Language; portal/i18n.py)."""
    chosen: Language | None = getattr(request.state, "language", None)
    if chosen is None:
        form_lang = getattr(request.state, "form_lang", None)
        chosen = i18n.choose(
            form_lang or request.query_params.get("lang"),
            request.cookies.get(cookie_name(LANG_COOKIE, request)),
            request.headers.get("accept-language"),
        )
        request.state.language = chosen
    return chosen


def gettext_for(language: Language) -> Any:
    """The catalog's gettext, for text built in Python (error sentences)."""
    return i18n.translations(language).gettext


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page in the request's language."""
    language = language_of(request)
    data = {
        "lang": language.value,
        "dir": i18n.direction(language),
        "languages": i18n.CHOICES,
        "csrf": csrf_token(request),
        "path": request.url.path,
        "day": lambda value: i18n.format_day(language, value),
        "money": lambda cents: i18n.format_money(language, cents),
        **(context or {}),
    }
    html = environment(language).get_template(template).render(data)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    explicit = request.query_params.get("lang") or getattr(request.state, "form_lang", None)
    set_cookies(request, response, language.value if i18n.parse(explicit) else None)
    return response
