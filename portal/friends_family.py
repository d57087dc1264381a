"""The friends-and-family form (164.510(b)): what was typed -> the agreement
domain/friends_family.py checks, and the domain's paths -> this form's fields. Strings are
msgids (`N_`), translated where they are shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.friends_family import MAX_PERSONS, Scope
from domain.types import Language
from portal.forms import N_, clean, patient_of, some

HEADING = N_("Share information with family and friends")
SUMMARY = N_("Let the hospital talk about your care, appointments or bills with people you name.")
INTRO = N_(
    "Name the people the hospital may talk to about you, what they may be told, and until "
    "when. This is not a request for records: nothing is sent to anyone. You can end it at any "
    "time by writing to us."
)
SCOPES: tuple[tuple[str, str], ...] = (
    (Scope.CONDITION.value, N_("Your condition and treatment")),
    (Scope.APPOINTMENTS.value, N_("Appointments")),
    (Scope.BILLING.value, N_("Billing and payment")),
    (Scope.ALL_BUT_PSYCHOTHERAPY.value, N_("Everything in the record except psychotherapy notes")),
)
UNTIL: tuple[tuple[str, str], ...] = (
    ("date", N_("Until a date")),
    ("revoked", N_("Until I end it")),
)
CONSENT = N_(
    "I am the patient or the patient's personal representative. I agree that the hospital may "
    "share what I chose above with the people I named, until the end I chose or until I end "
    "it in writing. Typing my full name signs this agreement."
)


def _persons(form: Mapping[str, str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The filled person rows, and each one's domain path -> its row's fields."""
    persons: list[dict[str, Any]] = []
    paths: dict[str, str] = {}
    for n in range(1, MAX_PERSONS + 1):
        person = some(
            {
                "name": clean(form, f"person_{n}_name"),
                "relationship": clean(form, f"person_{n}_relationship"),
                "phone": clean(form, f"person_{n}_phone"),
            }
        )
        if not person:
            continue
        i = len(persons)
        for part in ("name", "relationship", "phone"):
            paths[f"persons.{i}.{part}"] = f"person_{n}_{part}"
        paths[f"persons.{i}"] = f"person_{n}_name"
        persons.append(person)
    return persons, paths


def payload(form: Mapping[str, str], language: Language) -> tuple[dict[str, Any], dict[str, str]]:
    """The agreement as typed (an unknown choice stays as typed: the domain names its field)
    and the domain paths -> form fields for its errors."""
    persons, paths = _persons(form)
    until = clean(form, "until")
    data = some(
        {
            "kind": "friends_family",
            "site": clean(form, "site"),
            "channel": "portal",
            "language": language.value,
            "patient": patient_of(form),
            "signer": some(
                {
                    "relationship": clean(form, "relationship") or "self",
                    "first_name": clean(form, "requester_first_name"),
                    "last_name": clean(form, "requester_last_name"),
                }
            ),
            "persons": persons,
            "scopes": [v for v, _label in SCOPES if form.get(f"scope_{v}") == "yes"],
            "details": clean(form, "details"),
            "ends_on": clean(form, "ends_on") if until != "revoked" else None,
            "until_revoked": until == "revoked",
            "signature_name": clean(form, "signature_name"),
            "confirmed": form.get("consent") == "yes",
        }
    )
    fields = {
        **paths,
        "persons": "person_1_name",
        "scopes": "scopes",
        "details": "details",
        "ends_on": "ends_on",
        "until_revoked": "until",
        "signature_name": "signature_name",
        "signer.first_name": "requester_first_name",
        "signer.last_name": "requester_last_name",
        "signer.relationship": "relationship",
        "signer": "requester_last_name",
        "confirmed": "consent",
    }
    return data, fields
