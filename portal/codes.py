"""One-time codes that prove a signer's email address (ESIGN/UETA attribution).

A six-digit code is mailed through the engine's own mail path (activities/channels/mailer.py:
SMTP, or the outbox folder in the demo and tests); only its salted SHA-256 is kept, with an
expiry and a limit of wrong tries, and the address only as a digest. A code signs one
submission. Neither the code nor the address is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from activities.channels.wiring import build_mailer
from activities.outbox import Outbox
from config.settings import Settings
from portal.forms import N_
from store import portal as rows
from store.db import session_scope

#: How long a code may be used, and how many wrong tries it survives.
CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5

SUBJECT = N_("Your code to sign the authorization")
BODY = N_(
    "Your code is %(code)s. Type it on the form to sign your authorization. It works for "
    "%(minutes)s minutes. If you did not ask for it, ignore this email: nothing is signed "
    "without it."
)


def normalized(email: str) -> str:
    """The address as compared (surrounding spaces and letter case do not matter)."""
    return email.strip().lower()


def email_digest(email: str) -> str:
    """The address as stored and as a throttle label: a one-way digest."""
    return hashlib.sha256(normalized(email).encode()).hexdigest()


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(1_000_000):06d}"


def issue(database_url: str, email: str, now: datetime) -> tuple[str, str]:
    """Keep a new code's hash; (its id, the code) for the email. An earlier code of the same
    address stops working (only the newest is checked)."""
    code = new_code()
    salt = secrets.token_hex(16)
    with session_scope(database_url) as session:
        code_id = rows.add_code(
            session,
            email_digest=email_digest(email),
            salt=salt,
            code_hash=_hash(salt, code),
            now=now,
            expires_at=now + CODE_TTL,
        )
    return code_id, code


def send(
    settings: Settings,
    code_id: str,
    email: str,
    code: str,
    gettext: Callable[[str], str],
    *,
    subject: str = SUBJECT,
    body: str = BODY,
) -> None:
    """Mail the code in the page's language (SMTP, or the outbox folder: key = the code's id);
    `subject` and `body` are msgids (the signing form's by default, the records page's)."""
    message = EmailMessage()
    message["To"] = email.strip()
    message["Subject"] = gettext(subject)
    message["Message-ID"] = f"<{code_id}@roi.hospital.example>"
    minutes = int(CODE_TTL.total_seconds() // 60)
    message.set_content(gettext(body) % {"code": code, "minutes": minutes})
    build_mailer(settings, Outbox(settings.outbox_path)).send(message, f"portal-code-{code_id}")


class Outcome(StrEnum):
    """What a typed code proved."""

    OK = "ok"
    WRONG = "wrong"  # another try is allowed
    EXPIRED = "expired"  # too old, used, or too many wrong tries: ask for a new one
    NONE = "none"  # no code was sent to this address


@dataclass(frozen=True)
class Check:
    """The outcome, and the code's id when it is right."""

    outcome: Outcome
    code_id: str | None = None


def check(database_url: str, email: str, typed: str, now: datetime) -> Check:
    """Compare the typed code with the newest one sent to the address (a wrong try counts)."""
    typed = "".join(typed.split())
    with session_scope(database_url) as session:
        row = rows.latest_code(session, email_digest(email))
        if row is None:
            return Check(Outcome.NONE)
        if row.used_at is not None or row.expires_at <= now or row.attempts >= MAX_ATTEMPTS:
            return Check(Outcome.EXPIRED)
        if not hmac.compare_digest(_hash(row.salt, typed), row.code_hash):
            rows.count_attempt(session, row.id)
            last = row.attempts + 1 >= MAX_ATTEMPTS
            return Check(Outcome.EXPIRED if last else Outcome.WRONG)
        return Check(Outcome.OK, row.id)


def use(database_url: str, code_id: str, now: datetime) -> None:
    """The code has signed a submission."""
    with session_scope(database_url) as session:
        rows.mark_used(session, code_id, now)
