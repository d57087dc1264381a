"""The imaging study page (issue 18): where the email link of an imaging release points.

The signed token in the URL is the link (store/links.py, the same rows and checks as the staff
app's `/download/<token>`: signature, expiry, revocation), and every new device also gives the
patient's date of birth (counted per client address and per link before it is compared); the
device that gave it is trusted for ROI_PORTAL_LINK_DEVICE_HOURS, so its previews and the zip
load without asking again. The page lists the studies, their series with a preview each and
the counts, read from the release zip as it was sent (services/releases.py), offers the whole
zip, and lets the patient share a second link with another doctor (its own token, 14 days,
the same date-of-birth question), recorded as a disclosure the patient directed.

Every use (page, preview, zip, share), served or refused, is an access event in
`download_access_events` with what it served; tokens are never logged (config/redact.py).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session

from portal.context import Limited, ctx_of
from portal.forms import N_
from portal.render import gettext_for, language_of, render
from portal.routes.requests import page_context
from portal.security import client_address, cookie_name
from portal.throttle import give_back, opaque, take
from services import links, releases
from store.db import session_scope
from store.models import DownloadLink
from store.security import record_security_event

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

#: A random token per browser, set when it confirms a date of birth; access events keep its hash.
DEVICE_COOKIE = "roi_portal_device"
DEVICE_COOKIE_DAYS = 90

REFUSED: dict[str, tuple[int, str, str]] = {
    "expired": (
        410,
        N_("This link has expired"),
        N_(
            "Links to images work for a limited time. Call the Release of Information office "
            "and we will send you a new link."
        ),
    ),
    "revoked": (
        410,
        N_("This link is no longer valid"),
        N_(
            "The link was withdrawn. Call the Release of Information office if you still need "
            "the images."
        ),
    ),
    "invalid": (
        404,
        N_("This link is not valid"),
        N_(
            "Check that you copied the whole link from the email, or call the Release of "
            "Information office."
        ),
    ),
}
WRONG_DOB = N_(
    "That date of birth does not match our records for this link. Check it and try again, or "
    "call the Release of Information office."
)
NAME_NEEDED = N_("Enter the doctor's name.")
CONTACT_NEEDED = N_("Enter the doctor's email address or organisation.")
NOT_READY = N_("The images are not ready to show. Call the Release of Information office.")


@dataclass
class Opened:
    """One use of a link: what was decided, the link (detached from its session), the device."""

    outcome: str
    link: DownloadLink | None
    device: str
    new_device: bool
    extra: Any = None


def _device(request: Request) -> tuple[str, bool]:
    """The device's random token from its cookie, or a new one (True: set the cookie)."""
    raw = request.cookies.get(cookie_name(DEVICE_COOKIE, request))
    if raw and 32 <= len(raw) <= 64 and all(c.isalnum() or c in "-_" for c in raw):
        return raw, False
    return secrets.token_urlsafe(32), True


def _with_device(request: Request, response: Response, opened: Opened) -> Response:
    if opened.new_device and opened.outcome == "confirmed":
        response.set_cookie(
            cookie_name(DEVICE_COOKIE, request),
            opened.device,
            max_age=DEVICE_COOKIE_DAYS * 86400,
            path="/",
            secure=ctx_of(request).portal.cookie_secure,
            httponly=True,
            samesite="lax",  # the link is opened from an email (a cross-site navigation)
        )
    return response


def _open(
    request: Request,
    token: str,
    item: str,
    *,
    date_of_birth: date | None = None,
    answered: bool = False,
    then: Callable[[Session, DownloadLink], Any] | None = None,
) -> Opened:
    """Decide and record one use of the link (an access event naming `item`); `then` runs in
    the same transaction when the page may be shown (the share form)."""
    ctx = ctx_of(request)
    link_id = links.link_id_of(ctx.settings.link_secret, token)
    device, new = _device(request)
    extra = None
    with session_scope(ctx.db()) as session:
        outcome, link = links.open_download(
            session,
            link_id,
            now=datetime.now(UTC),
            client=opaque(client_address(request)),
            device=hashlib.sha256(device.encode()).hexdigest(),
            date_of_birth=date_of_birth,
            answered=answered,
            trusted_for=timedelta(hours=ctx.portal.link_device_hours),
            study_page=True,
            item=item,
        )
        if then is not None and link is not None and outcome in links.SERVED:
            extra = then(session, link)
        if link is not None:
            session.expunge(link)
    log.info("portal.imaging", link_id=link.id if link else None, outcome=outcome, item=item)
    return Opened(outcome, link, device, new, extra)


def _refused(request: Request, outcome: str) -> Response:
    gettext = gettext_for(language_of(request))
    code, title, message = REFUSED.get(outcome, REFUSED["invalid"])
    return render(
        request,
        "error.html",
        {**page_context(request), "title": gettext(title), "message": gettext(message)},
        status_code=code,
    )


def _dob_form(request: Request, token: str, *, wrong: bool = False) -> Response:
    gettext = gettext_for(language_of(request))
    return render(
        request,
        "study_dob.html",
        {
            **page_context(request),
            "action": f"/imaging/{token}",
            "device_hours": ctx_of(request).portal.link_device_hours,
            "error": gettext(WRONG_DOB) if wrong else None,
        },
        status_code=403 if wrong else 200,
    )


def _share_base(request: Request) -> str:
    """The portal's public address for a shared link (the setting, else this request's)."""
    configured = ctx_of(request).settings.portal_public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def _study_page(
    request: Request,
    token: str,
    opened: Opened,
    *,
    shared: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    link = opened.link
    assert link is not None
    index = releases.release_index(link.package_path)
    gettext = gettext_for(language_of(request))
    response = render(
        request,
        "study.html",
        {
            **page_context(request),
            "token": token,
            "index": index,
            "counts": index.counts if index else None,
            "not_ready": gettext(NOT_READY) if index is None else None,
            "expires": link.expires_at.date(),
            "can_share": link.shared_from is None and index is not None,
            "is_shared": link.shared_from is not None,
            "shared": shared,
            "errors": errors or {},
            "values": values or {"doctor_name": "", "doctor_contact": ""},
            "share_days": ctx_of(request).portal.share_ttl_days,
        },
        status_code=status_code,
    )
    return _with_device(request, response, opened)


def _answer(request: Request, token: str, opened: Opened) -> Response:
    if opened.outcome in links.SERVED and opened.link is not None:
        return _study_page(request, token, opened)
    if opened.outcome in ("dob_asked", "dob_wrong"):
        return _dob_form(request, token, wrong=opened.outcome == "dob_wrong")
    return _refused(request, opened.outcome)


@router.get("/imaging/{token}")
def study(request: Request, token: str) -> Response:
    """The study page for a device that confirmed the date of birth, else the question (or
    why the link does not work)."""
    return _answer(request, token, _open(request, token, "page"))


def answer_date_of_birth(request: Request, token: str, scope: str, item: str, typed: str) -> Opened:
    """The patient's date of birth for a link (the study page, the released records): counted
    per address and per link before it is compared (a right answer gives its attempt back,
    429 past the limit); a wrong one is an access event and a `portal.<scope>` security event;
    the right one trusts this device for the next hours."""
    ctx = ctx_of(request)
    limits = ctx.portal
    now = datetime.now(UTC)
    client = opaque(client_address(request))
    link_id = links.link_id_of(ctx.settings.link_secret, token)
    buckets = [f"portal:{scope}:ip:{client}"]
    if link_id is not None:
        buckets.append(f"portal:{scope}:link:{link_id}")
    with session_scope(ctx.db()) as session:
        window = timedelta(minutes=limits.link_dob_window_minutes)
        wait = take(session, buckets, limits.link_dob_per_window, window, now)
        if wait is not None:
            record_security_event(
                session,
                action=f"portal.{scope}",
                outcome="throttled",
                client=client,
                at=now,
                detail={"retry_after": wait},
            )
    if wait is not None:
        raise Limited(wait)
    try:
        dob: date | None = date.fromisoformat(typed.strip())
    except ValueError:
        dob = None
    opened = _open(request, token, item, date_of_birth=dob, answered=True)
    with session_scope(ctx.db()) as session:
        if opened.outcome in links.SERVED:
            give_back(session, tuple(buckets))
        elif opened.outcome == "dob_wrong":
            detail = {"reason": "date_of_birth"}
            if opened.link is not None:
                detail["request_id"] = opened.link.request_id
            record_security_event(
                session,
                action=f"portal.{scope}",
                outcome="failed",
                client=client,
                at=now,
                detail=detail,
            )
    return opened


@router.post("/imaging/{token}")
def confirm(
    request: Request,
    token: str,
    date_of_birth: Annotated[str, Form(max_length=10)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The patient's date of birth: counted per address and per link before it is compared
    (a right answer gives its attempt back); a wrong one is an access event and a security
    event; the right one shows the page and trusts this device for the next hours."""
    request.state.form_lang = lang or None
    opened = answer_date_of_birth(request, token, "imaging", "page", date_of_birth)
    return _answer(request, token, opened)


@router.get("/imaging/{token}/preview/{name}.jpg")
def preview(request: Request, token: str, name: str) -> Response:
    """One series' JPEG preview from the release zip, for a trusted device only."""
    if not releases.PREVIEW_NAME.match(name):
        return Response(status_code=404)
    opened = _open(request, token, f"preview:{name}")
    if opened.outcome not in links.SERVED or opened.link is None:
        return Response(status_code=403 if opened.outcome.startswith("dob") else 404)
    found = releases.preview(opened.link.package_path, name)
    if found is None:
        return Response(status_code=404)
    return Response(found, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/imaging/{token}/study.zip")
def download(request: Request, token: str) -> Response:
    """The whole release (the disc's DICOM files and the previews) as sent, streamed from disk."""
    opened = _open(request, token, "zip")
    if opened.outcome in links.SERVED and opened.link is not None:
        if not Path(opened.link.package_path).exists():
            return _refused(request, "expired")
        return FileResponse(
            opened.link.package_path,
            media_type="application/zip",
            filename="imaging.zip",
            headers={"Cache-Control": "no-store"},
        )
    if opened.outcome.startswith("dob"):
        return RedirectResponse(f"/imaging/{token}", status_code=303)
    return _refused(request, opened.outcome)


@router.post("/imaging/{token}/share")
def share(
    request: Request,
    token: str,
    doctor_name: Annotated[str, Form(max_length=200)] = "",
    doctor_contact: Annotated[str, Form(max_length=320)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """A second link for another doctor: shown on the page for the patient to send, and
    recorded as a disclosure the patient directed (services/links.py `share`)."""
    request.state.form_lang = lang or None
    ctx = ctx_of(request)
    gettext = gettext_for(language_of(request))
    values = {"doctor_name": doctor_name.strip(), "doctor_contact": doctor_contact.strip()}
    errors = {}
    if not values["doctor_name"]:
        errors["doctor_name"] = gettext(NAME_NEEDED)
    if not values["doctor_contact"]:
        errors["doctor_contact"] = gettext(CONTACT_NEEDED)
    now = datetime.now(UTC)
    ttl = timedelta(days=ctx.portal.share_ttl_days)

    def make(session: Session, parent: DownloadLink) -> DownloadLink | None:
        if errors or parent.shared_from is not None:
            return None
        bucket = f"portal:share:link:{parent.id}"
        wait = take(session, [bucket], ctx.portal.shares_per_day, timedelta(days=1), now)
        if wait is not None:
            raise Limited(wait)
        index = releases.release_index(parent.package_path)
        made = links.share(
            session,
            parent,
            doctor=values["doctor_name"],
            contact=values["doctor_contact"],
            index=index,
            now=now,
            ttl=ttl,
        )
        session.expunge(made)
        return made

    opened = _open(request, token, "share", then=make)
    if opened.outcome not in links.SERVED or opened.link is None:
        if opened.outcome.startswith("dob"):
            return _dob_form(request, token)
        return _refused(request, opened.outcome)
    if errors:
        return _study_page(request, token, opened, errors=errors, values=values, status_code=422)
    made: DownloadLink | None = opened.extra
    if made is None:  # a shared link does not share again
        return _refused(request, "invalid")
    log.info("portal.imaging_shared", link_id=made.id, shared_from=opened.link.id)
    new_token = links.token_of(ctx.settings.link_secret, made.id)
    shared = {
        "url": f"{_share_base(request)}/imaging/{new_token}",
        "expires": made.expires_at.date(),
        "doctor": made.shared_with or "",
    }
    return _study_page(request, token, opened, shared=shared)
