"""The patient's agreement to share with friends and family (164.510(b)): who may be told
what, until when. Not a records request (no workflow, no clock): a written agreement kept on
file and checked when a family member calls (DOMAIN.md "Friends and family").

Pure rules: the submission's shape, its validation, and the answer to "may this caller be
told anything?". Names are compared normalized (case, width and spacing), never logged.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from domain.errors import FieldIssue, issue
from domain.request import issues_from_validation_error
from domain.types import Language, Site


class Scope(StrEnum):
    """What a named person may be told (stable values: stored)."""

    CONDITION = "condition"  # condition and treatment
    APPOINTMENTS = "appointments"
    BILLING = "billing"
    ALL_BUT_PSYCHOTHERAPY = "all_but_psychotherapy"  # everything except psychotherapy notes


#: How staff read each scope on the request page.
SCOPE_TEXT: dict[Scope, str] = {
    Scope.CONDITION: "condition and treatment",
    Scope.APPOINTMENTS: "appointments",
    Scope.BILLING: "billing and payment",
    Scope.ALL_BUT_PSYCHOTHERAPY: "everything in the record except psychotherapy notes",
}

#: At most this many people on one agreement (the portal form offers as many).
MAX_PERSONS = 3


class FamilyPatient(BaseModel):
    """The patient, as intake stores every patient."""

    first_name: str = Field(min_length=1, max_length=100)
    middle_name: str | None = Field(default=None, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    mrn: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9-]+$")


class FamilyPerson(BaseModel):
    """One person the patient names."""

    name: str = Field(min_length=1, max_length=200)
    relationship: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=25)


class FamilySigner(BaseModel):
    """Who signs: the patient, or their personal representative."""

    relationship: str = Field(pattern=r"^(self|parent|legal_representative)$")
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)


class FriendsFamilySubmission(BaseModel):
    """The agreement as the portal (or staff) sends it."""

    kind: str = Field(default="friends_family", pattern=r"^friends_family$")
    site: Site
    channel: str = "portal"
    language: Language = Language.EN
    patient: FamilyPatient
    signer: FamilySigner
    persons: list[FamilyPerson] = Field(default_factory=list, max_length=MAX_PERSONS)
    scopes: list[Scope] = Field(default_factory=list)
    details: str | None = Field(default=None, max_length=2000)
    ends_on: date | None = None
    until_revoked: bool = False
    signature_name: str | None = Field(default=None, max_length=200)
    confirmed: bool = False
    received_at: str | None = None


def parse(data: Any, today: date) -> tuple[FriendsFamilySubmission | None, list[FieldIssue]]:
    """The agreement and every problem with it at once (its shape and the rules, together)."""
    errors: list[FieldIssue] = []
    sub = None
    try:
        sub = FriendsFamilySubmission.model_validate(data)
    except ValidationError as error:
        errors = issues_from_validation_error(error)
    raw = data if isinstance(data, dict) else {}
    signer: dict[str, Any] = raw["signer"] if isinstance(raw.get("signer"), dict) else {}
    if signer.get("relationship", "self") != "self" and not (
        signer.get("first_name") and signer.get("last_name")
    ):
        errors.append(issue("signer.last_name", "missing", "Name the representative."))
    if not raw.get("persons"):
        errors.append(issue("persons.0.name", "missing", "Name at least one person."))
    if not raw.get("scopes") and not str(raw.get("details") or "").strip():
        errors.append(issue("scopes", "ff_scope_missing", "Say what they may be told."))
    if not raw.get("ends_on") and not raw.get("until_revoked"):
        errors.append(issue("ends_on", "ff_end_missing", "Give an end date or until revoked."))
    if sub is not None and sub.ends_on is not None and sub.ends_on < today:
        errors.append(issue("ends_on", "ff_end_past", "The end date has passed."))
    elif sub is None and isinstance(raw.get("ends_on"), str):
        try:
            if date.fromisoformat(raw["ends_on"]) < today:
                errors.append(issue("ends_on", "ff_end_past", "The end date has passed."))
        except ValueError:
            pass
    if not str(raw.get("signature_name") or "").strip():
        errors.append(issue("signature_name", "signature_missing", "Type the full name."))
    if not raw.get("confirmed"):
        errors.append(issue("consent", "consent_required", "Confirm before sending."))
    return (sub if not errors else None), errors


def normalized(name: str) -> str:
    """A name as calls compare it: case, width, punctuation and spacing folded."""
    text = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(kept.split())


@dataclass(frozen=True)
class OnFile:
    """One active agreement as the check reads it."""

    id: str
    persons: list[dict[str, Any]]
    scopes: list[str]
    details: str | None
    ends_on: date | None


@dataclass(frozen=True)
class CallAnswer:
    """What staff may tell this caller: nothing (no agreement names them), or the scopes and
    until when."""

    allowed: bool
    authorization_id: str | None = None
    scopes: tuple[str, ...] = ()
    details: str | None = None
    ends_on: date | None = None
    relationship_on_file: str | None = None


def check_call(agreements: list[OnFile], caller_name: str, today: date) -> CallAnswer:
    """Whether an agreement in force today names this caller (an expired one does not count;
    the newest matching agreement wins)."""
    wanted = normalized(caller_name)
    if not wanted:
        return CallAnswer(False)
    for found in agreements:
        if found.ends_on is not None and found.ends_on < today:
            continue
        for person in found.persons:
            if normalized(str(person.get("name", ""))) == wanted:
                return CallAnswer(
                    True,
                    found.id,
                    tuple(found.scopes),
                    found.details,
                    found.ends_on,
                    str(person.get("relationship") or "") or None,
                )
    return CallAnswer(False)
