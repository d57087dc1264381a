"""The forms of the other request kinds (portal/cases.py): each shown in the patient's
language with the portal's field macros and sent by the same path as the records forms
(requests.send_form: address limit, honeypot, confirmation, services/intake.py). A document
upload is sniffed, size-limited and re-encoded (portal/uploads.py) before anything is sent, and
goes to intake with the submission, encrypted at rest; it is never shown back. Outside records
have no form: their page is the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from domain.types import Language
from portal import cases, forms, uploads
from portal.context import ctx_of
from portal.render import gettext_for, language_of, render
from portal.routes.requests import Prepared, form_values, page_context, send_form
from services import intake

router = APIRouter(include_in_schema=False)

OUTSIDE_PATH = "/request/outside-records"


def _megabytes(request: Request) -> int:
    return max(1, ctx_of(request).portal.upload_max_bytes // 1_000_000)


def _context(
    request: Request,
    spec: cases.CaseForm,
    values: dict[str, str],
    errors: list[forms.FormError],
    file_lost: bool,
) -> dict[str, Any]:
    gettext = gettext_for(language_of(request))
    megabytes = _megabytes(request)

    def field(f: cases.Field) -> dict[str, Any]:
        hint = gettext(f.hint) % {"megabytes": megabytes} if f.hint else None
        return {
            "name": f.name,
            "widget": f.widget,
            "label": gettext(forms.LABELS[f.name]),
            "hint": hint,
            "required": f.required,
            "options": [(v, gettext(label), None, None) for v, label in f.options],
            "maxlength": f.maxlength,
            "autocomplete": f.autocomplete,
        }

    order = spec.field_names()
    ordered = sorted(errors, key=lambda e: order.index(e.field) if e.field in order else 0)
    return {
        **page_context(request),
        "action": spec.action,
        "heading": gettext(spec.heading),
        "intro": gettext(spec.intro),
        "sections": [
            {"heading": gettext(s.heading), "fields": [field(f) for f in s.fields]}
            for s in spec.sections
        ],
        "consent_label": gettext(spec.consent),
        "multipart": spec.upload is not None,
        "file_lost": file_lost,
        "values": values,
        "errors": {e.field: e.message for e in ordered},
        "form_id": forms.new_form_id(),
    }


def _show(
    request: Request,
    spec: cases.CaseForm,
    values: dict[str, str] | None = None,
    errors: list[forms.FormError] | None = None,
    status_code: int = 200,
    file_lost: bool = False,
) -> Response:
    return render(
        request,
        "case_form.html",
        _context(request, spec, values or {"relationship": "self"}, errors or [], file_lost),
        status_code=status_code,
    )


def _prepare(
    request: Request, spec: cases.CaseForm, values: dict[str, str], files: dict[str, bytes]
) -> Any:
    """The submission with its upload re-encoded (a refused or missing required file is the
    portal's own error on its field; nothing is stored)."""
    limit = ctx_of(request).portal.upload_max_bytes
    megabytes = _megabytes(request)

    def prepare(language: Language) -> Prepared:
        gettext = gettext_for(language)
        errors: list[forms.FormError] = []
        kept: list[intake.UploadedDocument] = []
        pages = 0
        data = files.get("document_file")
        required = any(
            f.name == "document_file" and f.required for s in spec.sections for f in s.fields
        )
        if spec.upload is not None and (data or required):
            try:
                document = uploads.clean(data or b"", limit)
            except uploads.UploadRefused as refused:
                errors.append(
                    forms.portal_error("document_file", refused.code, gettext, megabytes=megabytes)
                )
            else:
                pages = document.pages
                kept.append(
                    intake.UploadedDocument(spec.upload, document.media_type, document.content)
                )
        return Prepared(spec.payload(values, language, pages), errors, kept)

    return prepare


def _register(spec: cases.CaseForm) -> None:
    async def show_form(request: Request) -> Response:
        return _show(request, spec)

    async def submit(request: Request) -> Response:
        values, files = await form_values(request)

        def show(kept: dict[str, str], errors: list[forms.FormError], code: int) -> Response:
            return _show(request, spec, kept, errors, code, file_lost=bool(files))

        return await send_form(request, values, _prepare(request, spec, values, files), show)

    show_form.__doc__ = f"The {spec.kind.value} form."
    submit.__doc__ = f"Send the {spec.kind.value} form."
    router.add_api_route(spec.action, show_form, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(spec.action, submit, methods=["POST"], response_class=HTMLResponse)


for _spec in cases.FORMS:
    _register(_spec)


@router.get(OUTSIDE_PATH, response_class=HTMLResponse)
def outside_records(request: Request) -> Response:
    """Records another provider made: no form, the answer at once."""
    gettext = gettext_for(language_of(request))
    return render(
        request,
        "outside.html",
        {
            **page_context(request),
            "heading": gettext(cases.OUTSIDE_HEADING),
            "ask": gettext(cases.OUTSIDE_ASK),
            "sending": gettext(cases.OUTSIDE_SENDING),
            "redirect": gettext(cases.OUTSIDE_REDIRECT),
        },
    )
