"""Which model and rules validate each non-copy kind, which team owns it, who gets the letters.

Pure: `parse_case` turns raw data into a validated submission (or field issues) and
`case_start` derives the workflow's start record from it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.errors import FieldIssue, issue
from domain.kinds.accounting import AccountingRequest, accounting_rules
from domain.kinds.adoption import AdoptionNotice
from domain.kinds.amendment import AmendmentRequest
from domain.kinds.billing import BillingRequest
from domain.kinds.case import CaseStart
from domain.kinds.common import CaseSubmission, Team
from domain.kinds.deceased import DeceasedNotice, deceased_rules
from domain.kinds.proxy import ProxyRequest, proxy_rules
from domain.kinds.revocation import RevocationRequest, revocation_rules
from domain.patients import patient_key
from domain.request import ACCESS_RELATIONSHIPS, issues_from_validation_error
from domain.types import RequestKind

Rules = Callable[[Any, datetime], list[FieldIssue]]


def _patient_rights(sub: CaseSubmission, now: datetime) -> list[FieldIssue]:
    """Rights that belong to the patient: exercised by the patient or a personal representative."""
    found: list[FieldIssue] = []
    if sub.received_at > now:
        found.append(issue("received_at", "in_future", "The receipt time cannot be in the future."))
    if sub.patient.date_of_birth > now.date():
        found.append(
            issue(
                "patient.date_of_birth", "in_future", "The date of birth cannot be in the future."
            )
        )
    if sub.requester.relationship not in ACCESS_RELATIONSHIPS:
        found.append(
            issue(
                "requester.relationship",
                "not_the_patient_or_representative",
                "Only the patient or their personal representative can make this request.",
            )
        )
    if not sub.requester.display_name():
        found.append(issue("requester.last_name", "missing", "Give the requester's name."))
    return found


def _both(*rules: Rules) -> Rules:
    return lambda sub, now: [i for rule in rules for i in rule(sub, now)]


def _adoption_rules(sub: AdoptionNotice, now: datetime) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if sub.received_at > now:
        found.append(issue("received_at", "in_future", "The receipt time cannot be in the future."))
    if sub.patient.date_of_birth > now.date():
        found.append(
            issue(
                "patient.date_of_birth", "in_future", "The date of birth cannot be in the future."
            )
        )
    return found


CASE_KINDS: dict[RequestKind, tuple[type[BaseModel], Rules, str]] = {
    RequestKind.AMENDMENT: (AmendmentRequest, _patient_rights, Team.AMENDMENT),
    RequestKind.REVOCATION: (RevocationRequest, _both(_patient_rights, revocation_rules), Team.ROI),
    RequestKind.PROXY_ACCESS: (ProxyRequest, proxy_rules, Team.ROI),
    RequestKind.BILLING: (BillingRequest, _patient_rights, Team.BILLING),
    RequestKind.DECEASED_NOTICE: (DeceasedNotice, deceased_rules, Team.DATA_INTEGRITY),
    RequestKind.ADOPTION_NOTICE: (AdoptionNotice, _adoption_rules, Team.DATA_INTEGRITY),
    RequestKind.ACCOUNTING: (AccountingRequest, _both(_patient_rights, accounting_rules), Team.ROI),
}


def parse_case(
    kind: RequestKind, data: Any, now: datetime
) -> tuple[BaseModel | None, list[FieldIssue]]:
    """The validated submission of a non-copy kind, or every field issue found."""
    model, rules, _team = CASE_KINDS[kind]
    try:
        sub = model.model_validate(data)
    except ValidationError as error:
        return None, issues_from_validation_error(error)
    problems = rules(sub, now)
    return (None, problems) if problems else (sub, [])


def _who(sub: BaseModel) -> tuple[str, list[str], str | None]:
    """Requester name, postal address lines and email for letters."""
    if isinstance(sub, DeceasedNotice):
        return f"{sub.reporter.first_name} {sub.reporter.last_name}", [], sub.reporter.email
    if isinstance(sub, AdoptionNotice):
        parent = sub.parents[0]
        address = parent.contact.address.lines() if parent.contact.address else []
        return f"{parent.first_name} {parent.last_name}", address, parent.contact.email
    assert isinstance(sub, CaseSubmission)
    contact = sub.reply_contact()
    return (
        sub.requester.display_name(),
        contact.address.lines() if contact.address else [],
        contact.email,
    )


def case_start(
    kind: RequestKind, sub: BaseModel, request_id: str, tracking_number: str
) -> CaseStart:
    """What the kind's workflow starts with."""
    patient: Any = sub.patient  # type: ignore[attr-defined]  # every case kind's model has it
    name = " ".join(p for p in (patient.first_name, patient.middle_name, patient.last_name) if p)
    requester, address, email = _who(sub)
    dob: date = patient.date_of_birth
    return CaseStart(
        request_id=request_id,
        tracking_number=tracking_number,
        kind=kind,
        submission=sub.model_dump(mode="json"),
        patient_key=patient_key(patient.first_name, patient.last_name, dob),
        patient_name=name,
        patient_date_of_birth=dob,
        requester_name=requester,
        reply_address=address,
        reply_email=email,
        site=sub.site,  # type: ignore[attr-defined]  # every case kind's model has it
        language=sub.language,  # type: ignore[attr-defined]  # as above
        received_at=sub.received_at,  # type: ignore[attr-defined]  # as above
        team=CASE_KINDS[kind][2],
    )
