"""Friends-and-family agreements (164.510(b)): kept as the intake keeps every submission
(stored first, then checked), and read back for staff by the patient's key, the same key the
release checks use. Not a records request: no workflow, no clock.

Logs carry the agreement's id and error codes only, never a name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from ulid import ULID

from domain import friends_family as rules
from domain.errors import FieldIssue
from domain.patients import patient_key
from domain.text import storable_copy, unstorable_fields
from store import friends_family as rows
from store.db import session_scope

log = structlog.get_logger(__name__)


@dataclass
class Result:
    """What the sender gets back: the agreement's reference, or the problems."""

    authorization_id: str
    accepted: bool
    errors: list[FieldIssue] = field(default_factory=list)
    duplicate: bool = False


def reference(authorization_id: str) -> str:
    """The short reference the patient is shown (the id's last ten characters)."""
    return f"FF-{authorization_id[-10:-5]}-{authorization_id[-5:]}"


def issues_of(data: dict[str, Any], today: date) -> list[FieldIssue]:
    """What the checks would say, without storing anything (a form not confirmed yet)."""
    return rules.parse(data, today)[1]


def submit(
    data: dict[str, Any],
    *,
    database_url: str,
    source: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    today: date | None = None,
) -> Result:
    """Store the agreement as received, then check it: accepted (indexed by the patient's key
    for staff) or kept rejected with its errors. The same key answers the first time's way."""
    now = now or datetime.now(UTC)
    today = today or now.date()
    if idempotency_key:
        with session_scope(database_url) as session:
            existing = rows.by_key(session, idempotency_key)
            if existing is not None:
                errors = [FieldIssue(**e) for e in existing.errors or []]
                accepted = existing.outcome == "accepted"
                return Result(existing.id, accepted, errors, duplicate=True)
    errors = unstorable_fields(data)
    if errors:
        data = storable_copy(data)
    data = {**data, "received_at": now.isoformat()}
    authorization_id = str(ULID())
    try:
        with session_scope(database_url) as session:
            rows.store(
                session,
                authorization_id=authorization_id,
                received_at=now,
                source=source,
                idempotency_key=idempotency_key,
                payload=data,
            )
    except IntegrityError:  # the same key sent twice at once: the first one answers
        if idempotency_key is None:
            raise
        return submit(
            data,
            database_url=database_url,
            source=source,
            idempotency_key=idempotency_key,
            now=now,
            today=today,
        )
    log.info("friends_family.stored", authorization_id=authorization_id, source=source)
    sub = None
    if not errors:
        sub, errors = rules.parse(data, today)
    with session_scope(database_url) as session:
        if sub is None:
            rows.mark(
                session,
                authorization_id,
                outcome="rejected",
                errors=[e.model_dump() for e in errors],
            )
        else:
            p = sub.patient
            rows.mark(
                session,
                authorization_id,
                outcome="accepted",
                patient_key=patient_key(p.first_name, p.last_name, p.date_of_birth),
                site=sub.site.value,
                ends_on=None if sub.until_revoked else sub.ends_on,
            )
    log.info(
        "friends_family.checked",
        authorization_id=authorization_id,
        accepted=sub is not None,
        codes=[e.code for e in errors],
    )
    return Result(authorization_id, sub is not None, errors)


@dataclass(frozen=True)
class OnFileView:
    """An agreement as the staff page shows it."""

    id: str
    reference: str
    received_at: datetime
    persons: list[dict[str, Any]]
    scopes: list[str]
    details: str | None
    ends_on: date | None


def on_file(session: Session, key: str | None, today: date) -> list[OnFileView]:
    """The patient's agreements in force today (none without a key), in the caller's
    transaction."""
    if not key:
        return []
    found = []
    for row in rows.active_for_patient(session, key, today):
        payload = row.payload or {}
        scopes = [
            rules.SCOPE_TEXT.get(rules.Scope(s), s)
            for s in payload.get("scopes", [])
            if s in rules.Scope._value2member_map_
        ]
        found.append(
            OnFileView(
                row.id,
                reference(row.id),
                row.received_at,
                list(payload.get("persons") or []),
                scopes,
                payload.get("details"),
                row.ends_on,
            )
        )
    return found


def check_call(agreements: list[OnFileView], caller_name: str, today: date) -> rules.CallAnswer:
    """The family call check over the agreements on file."""
    return rules.check_call(
        [rules.OnFile(a.id, a.persons, a.scopes, a.details, a.ends_on) for a in agreements],
        caller_name,
        today,
    )


@dataclass(frozen=True)
class CallAnswerView:
    """The call check's answer as the staff page shows it (to the staff member who asked,
    never logged)."""

    answer: rules.CallAnswer
    caller_name: str
    caller_relationship: str

    @property
    def scopes(self) -> list[str]:
        """What the caller may be told, in words."""
        return [
            rules.SCOPE_TEXT.get(rules.Scope(s), s) if s in rules.Scope._value2member_map_ else s
            for s in self.answer.scopes
        ]
