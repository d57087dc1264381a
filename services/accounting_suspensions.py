"""Accounting suspensions (164.528(a)(2)) recorded by staff: a health oversight agency's or law
enforcement official's request to leave the disclosures made to it out of a patient's accounting
until a date. The CLI (`roi accounting-suspend FILE`) and the supervisors' web form both go
through `record_suspension`; rows are append-only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import structlog
from ulid import ULID

from domain.accounting_suspension import SuspensionRequest, suspension_issues
from domain.errors import FieldIssue
from domain.patients import patient_key
from store import cases
from store.db import session_scope
from store.models import AccountingSuspension

log = structlog.get_logger(__name__)


class SuspensionRefused(ValueError):
    """The request cannot be recorded as it is (field issues)."""

    def __init__(self, issues: list[FieldIssue]) -> None:
        super().__init__(issues[0].message if issues else "refused")
        self.issues = issues


def record_suspension(
    database_url: str,
    item: SuspensionRequest,
    actor: str,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> str:
    """Check the request (an oral one: at most 30 days, the official documented) and store it;
    returns its key. Raises SuspensionRefused with every field issue."""
    now = now or datetime.now(UTC)
    problems = suspension_issues(item, today or now.date())
    if problems:
        raise SuspensionRefused(problems)
    key = f"susp-{str(ULID()).lower()}"
    with session_scope(database_url) as session:
        cases.add_accounting_suspension(
            session,
            AccountingSuspension(
                suspension_key=key,
                patient_key=patient_key(
                    item.patient_first_name, item.patient_last_name, item.patient_date_of_birth
                ),
                agency_type=item.agency_type.value,
                agency_name=item.agency_name,
                form=item.form.value,
                received_on=item.received_on,
                ends_on=item.ends_on,
                statement=item.statement,
                official_name=item.official_name,
                official_identity=item.official_identity,
                recorded_by=actor,
                recorded_at=now,
            ),
        )
    log.info(  # codes only: never the patient, the agency or what it said
        "accounting.suspension_recorded",
        key=key,
        form=item.form.value,
        agency_type=item.agency_type.value,
        ends_on=item.ends_on.isoformat(),
    )
    return key
