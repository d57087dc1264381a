"""The intake API: one POST per supported kind, validated by the domain's own rules.

The body is read raw and handed to services.intake.submit, which stores it before validating
(so even a rejected submission is kept for staff) and starts the request's workflow exactly once
per Idempotency-Key. Field problems come back as 422 with one entry per field.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from app import security_log, throttle
from app.accounts import api_client_for
from app.auth import ctx_of, staff
from app.context import Forbidden, NotSignedIn, TooManyAttempts
from app.deps import SessionDep
from app.roles import Can, can
from app.routes.session import client_address
from app.security import opaque
from app.security_log import Action
from domain.errors import FieldIssue
from domain.text import parse_json
from domain.types import RequestKind
from services import intake

router = APIRouter(prefix="/api/v1", tags=["intake"])
log = structlog.get_logger(__name__)
_MINUTE = timedelta(minutes=1)

#: Every kind the hospital handles, each with its own endpoint and the domain's own rules.
API_KINDS: dict[RequestKind, str] = {
    RequestKind.ACCESS_OWN: "A patient's (or their personal representative's) request for a "
    "copy of their own records (45 CFR 164.524). No authorization form is needed.",
    RequestKind.THIRD_PARTY: "A release to a third party on a signed authorization "
    "(45 CFR 164.508); include the `authorization` as read from the form.",
    RequestKind.IMAGING: "Imaging by cloud link (email_link), encrypted CD by US mail "
    "(cd_mail, free) or FedEx (fedex, $45, two business days).",
    RequestKind.CONTINUITY_OF_CARE: "Another provider's request for treatment (164.506): no "
    "patient authorization, but the provider is verified; Minnesota requires the patient's "
    "consent.",
    RequestKind.SSA_DISABILITY: "A Social Security disability (DDS) request with the patient's "
    "SSA authorization.",
    RequestKind.SUBPOENA: "A subpoena (164.512(e)): needs the patient's authorization or the "
    "satisfactory assurances of the rule.",
    RequestKind.COURT_ORDER: "A court order signed by a judge (164.512(e)).",
    RequestKind.AMENDMENT: "A request to amend the record (164.526), for the Amendment Request "
    "Specialist: 60 days, one 30-day extension.",
    RequestKind.REVOCATION: "A written revocation of an authorization (164.508(b)(5)): takes "
    "effect on receipt.",
    RequestKind.PROXY_ACCESS: "Proxy access for a parent of a minor or a legal representative, "
    "with the documents that prove authority.",
    RequestKind.BILLING: "A billing information request, routed to Billing.",
    RequestKind.DECEASED_NOTICE: "A deceased-patient notification for HIMS Data Integrity.",
    RequestKind.ADOPTION_NOTICE: "An adoption notification for HIMS Data Integrity, with the "
    "type of court document sent.",
    RequestKind.ACCOUNTING: "An accounting of disclosures (164.528): the 6 years before the "
    "request or a shorter period; 60 days, one 30-day extension.",
    RequestKind.OUTSIDE_RECORDS: "Records from another facility sent for an appointment: not a "
    "release-of-information request; answered (200, `redirected`) with where to send them.",
}


class Redirected(BaseModel):
    """Outside records: not queued; the sender is told where they belong (200)."""

    redirected: bool = True
    message: str
    submission_id: str


class Accepted(BaseModel):
    """The request was accepted (201), or had already been (200, `duplicate`)."""

    tracking_number: str
    request_id: str
    duplicate: bool = False
    status_page: str = "/status"


class Rejected(BaseModel):
    """Every field problem at once; the submission is kept for staff review."""

    detail: str
    errors: list[FieldIssue]
    submission_id: str | None = None


class Problem(BaseModel):
    detail: str


def _client_by_token(request: Request, session: Session, token: str) -> str:
    """The intake client holding this bearer token (401), within its requests per minute and
    its address within its wrong tokens (429 with Retry-After); each refusal a security event.
    Committed before the answer or the submission: the request is counted, its row locks
    released, and a refusal kept though the request then fails."""
    ctx = ctx_of(request)
    web = ctx.web
    client = opaque(client_address(request))
    address_bucket = f"api:ip:{client}"
    now = datetime.now(UTC)
    name: str | None = None
    wait = throttle.blocked(session, address_bucket, now)
    if wait is not None:
        detail = {"retry_after": wait}
        security_log.add(session, Action.API_TOKEN, "throttled", client=client, detail=detail)
    else:
        name = api_client_for(session, token)
        if name is None:
            policy = throttle.Policy(
                web.api_max_failures,
                timedelta(minutes=web.login_window_minutes),
                base_seconds=web.throttle_base_delay_seconds,
                cap_seconds=float(web.throttle_max_delay_seconds),
            )
            throttle.failed(session, address_bucket, policy, now)
            security_log.add(session, Action.API_TOKEN, "failed", client=client)
        else:
            wait = throttle.take(
                session, f"api:token:{name}", web.api_requests_per_minute, _MINUTE, now
            )
            if wait is not None:
                security_log.add(
                    session,
                    Action.API_RATE,
                    "throttled",
                    actor=f"client:{name}"[:64],
                    client=client,
                    detail={"client": name, "retry_after": wait},
                )
    session.commit()
    if wait is not None:
        log.info("api.throttled", retry_after=wait)
        raise TooManyAttempts(wait)
    if name is None:
        raise NotSignedIn()
    return name


def intake_caller(request: Request, session: SessionDep) -> str:
    """Who is submitting: an intake client's bearer token, or signed-in staff (401/403);
    429 when the client is over its limits."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        name = _client_by_token(request, session, header[7:].strip())
        request.state.site_scope = None
        return f"client:{name}"
    signed = staff(request)
    if not can(signed.account.role, Can.SUBMIT_INTAKE):
        raise Forbidden("Your account cannot submit requests.")
    request.state.site_scope = signed.account.sites
    return f"user:{signed.account.id}"


def _rejected(errors: list[FieldIssue], submission_id: str | None = None) -> JSONResponse:
    body = Rejected(
        detail="The submission has problems; each is listed with its field.",
        errors=errors,
        submission_id=submission_id,
    )
    return JSONResponse(body.model_dump(), status_code=422)


async def _submit(
    kind: RequestKind, request: Request, caller: str, idempotency_key: str | None
) -> JSONResponse:
    ctx = ctx_of(request)
    problems: list[FieldIssue] = []
    if idempotency_key is not None and not (
        1 <= len(idempotency_key) <= 100 and idempotency_key.isprintable()
    ):
        problems.append(
            FieldIssue(
                field="Idempotency-Key",
                code="invalid",
                message="Use 1 to 100 printable characters.",
            )
        )
    raw = await request.body()
    try:
        data: Any = parse_json(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        return _rejected(
            [FieldIssue(field="body", code="malformed_json", message="The body is not valid JSON.")]
        )
    if not isinstance(data, dict):
        return _rejected(
            [
                FieldIssue(
                    field="body", code="not_an_object", message="The body must be a JSON object."
                )
            ]
        )
    if data.setdefault("kind", kind.value) != kind.value:
        problems.append(
            FieldIssue(
                field="kind",
                code="kind_mismatch",
                message=f"This endpoint takes kind {kind.value}.",
            )
        )
    scope = getattr(request.state, "site_scope", None)
    if scope is not None and data.get("site") not in scope:
        problems.append(
            FieldIssue(
                field="site",
                code="site_not_allowed",
                message="Your account does not cover that site.",
            )
        )
    if problems:
        return _rejected(problems)
    key = None
    if idempotency_key:
        # Keys are per caller: one client's key can never return another client's request.
        space = hashlib.sha256(caller.encode()).hexdigest()[:12]
        key = f"api:{space}:{idempotency_key}"
    result = await intake.submit(
        data,
        database_url=ctx.db(),
        client=await ctx.temporal(),
        task_queue=ctx.settings.task_queue,
        source="api",
        idempotency_key=key,
    )
    body: Redirected | Accepted
    if not result.accepted:
        log.info(
            "api.intake_rejected",
            submission_id=result.submission_id,
            codes=[e.code for e in result.errors],
        )
        if result.redirected:
            body = Redirected(message=result.message or "", submission_id=result.submission_id)
            return JSONResponse(body.model_dump(), status_code=200)
        return _rejected(result.errors, result.submission_id)
    log.info("api.intake_accepted", request_id=result.request_id, duplicate=result.duplicate)
    body = Accepted(
        tracking_number=result.tracking_number or "",
        request_id=result.request_id or "",
        duplicate=result.duplicate,
    )
    return JSONResponse(body.model_dump(), status_code=200 if result.duplicate else 201)


def _endpoint(kind: RequestKind) -> Any:
    async def submit(
        request: Request,
        caller: Annotated[str, Depends(intake_caller)],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                description="Any unique string per submission (e.g. a UUID); a retry with the "
                "same key returns the same request and never creates a second one.",
            ),
        ] = None,
    ) -> JSONResponse:
        return await _submit(kind, request, caller, idempotency_key)

    submit.__name__ = f"submit_{kind.value}"
    return submit


def _model(kind: RequestKind) -> type[BaseModel]:
    """The submission model the domain validates this kind with."""
    from domain.kinds.intake import CASE_KINDS
    from domain.kinds.outside_records import OutsideRecordsNotice
    from domain.request import RecordRequestSubmission

    if kind == RequestKind.OUTSIDE_RECORDS:
        return OutsideRecordsNotice
    return CASE_KINDS[kind][0] if kind in CASE_KINDS else RecordRequestSubmission


def _schema_name(kind: RequestKind) -> str:
    return _model(kind).__name__


for _kind, _summary in API_KINDS.items():
    router.add_api_route(
        f"/requests/{_kind.value}",
        _endpoint(_kind),
        methods=["POST"],
        summary=f"Submit a {_kind.value.replace('_', ' ')} request",
        description=_summary
        + "\n\nAuthenticate with `Authorization: Bearer <token>` (an intake client's token), "
        "or as signed-in staff with the `X-CSRF-Token` header.",
        status_code=201,
        response_model=Accepted,
        responses={
            200: {
                "model": Redirected if _kind == RequestKind.OUTSIDE_RECORDS else Accepted,
                "description": "Redirected to the care team"
                if _kind == RequestKind.OUTSIDE_RECORDS
                else "Already submitted under this key",
            },
            401: {"model": Problem, "description": "No valid credentials"},
            403: {"model": Problem, "description": "Credentials without intake rights"},
            429: {
                "model": Problem,
                "description": "Too many requests for this token, or wrong tokens from this "
                "address; the Retry-After header says how many seconds to wait",
            },
            422: {"model": Rejected, "description": "Field problems"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{_schema_name(_kind)}"}
                    }
                },
            }
        },
    )


def openapi_components() -> dict[str, Any]:
    """Each kind's submission JSON schema (and the models they use) for the OpenAPI document."""
    components: dict[str, Any] = {}
    for kind in API_KINDS:
        model = _model(kind)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return components
