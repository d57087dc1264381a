"""Side effects of the non-copy request kinds, and the release/revocation lock.

Like RequestActivities: clients come in through __init__, each activity is idempotent on its
key (a retried activity writes the same row or file, never a second one).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import names
from activities.outbox import Outbox
from domain.accounting_suspension import ActiveSuspension, is_suspended
from domain.effects import (
    AccountingQuery,
    AmendmentOutcome,
    CaseProjection,
    HandOff,
    ProxyChange,
    RegistryUpdate,
    ReleaseStart,
    RevocationApply,
    RevokedAuthorization,
)
from domain.kinds.accounting import DisclosureEntry
from domain.kinds.case import CaseState
from domain.types import DisclosureCategory
from store import cases
from store.db import session_scope

log = structlog.get_logger(__name__)


class CaseActivities:
    """Activities of the case workflows: amendment, revocation, proxy, billing, HIMS, accounting."""

    def __init__(self, database_url: str, outbox: Outbox) -> None:
        self.database_url = database_url
        self.outbox = outbox

    @activity.defn(name=names.PROJECT_CASE)
    def project_case(self, projection: CaseProjection) -> bool:
        """Mirror a case's state into the read model with one audit event."""
        state = CaseState.model_validate(projection.state)
        with session_scope(self.database_url) as session:
            added = cases.project_case(session, state, projection.version, projection.event)
        log.info(
            "case.projected",
            request_id=state.request_id,
            action=projection.event.action,
            status=state.status.value,
        )
        return added

    @activity.defn(name=names.BEGIN_RELEASE)
    def begin_release(self, start: ReleaseStart) -> bool:
        """Claim the release under the authorization's row lock; refused once revoked."""
        try:
            with session_scope(self.database_url) as session:
                cases.begin_release(session, start.authorization_ref, start.request_id, start.at)
        except cases.AuthorizationRevokedError:
            log.info("release.refused_revoked", request_id=start.request_id)
            raise ApplicationError(
                "The authorization was revoked before the release.",
                type="AuthorizationRevoked",
                non_retryable=True,
            ) from None
        return True

    @activity.defn(name=names.APPLY_REVOCATION)
    def apply_revocation(self, change: RevocationApply) -> list[RevokedAuthorization]:
        """Record the revocation of each named authorization (idempotent: revoked stays revoked)."""
        with session_scope(self.database_url) as session:
            done = cases.apply_revocation(
                session,
                change.revocation_request_id,
                change.patient_key,
                change.tracking_numbers,
                change.at,
            )
        log.info("revocation.applied", request_id=change.revocation_request_id, count=len(done))
        return [
            RevokedAuthorization(tracking_number=t, request_id=r, released_before=b)
            for t, r, b in done
        ]

    @activity.defn(name=names.UPDATE_REGISTRY)
    def update_registry(self, change: RegistryUpdate) -> None:
        """Data Integrity's update: the patient is deceased, or an adoption was recorded."""
        with session_scope(self.database_url) as session:
            cases.update_registry(session, change)
        log.info(
            "registry.updated",
            request_id=change.request_id,
            deceased=change.deceased_on is not None,
            adoption=change.adoption,
        )

    @activity.defn(name=names.RECORD_AMENDMENT)
    def record_amendment(self, outcome: AmendmentOutcome) -> None:
        """Link the amendment outcome (and any disagreement/rebuttal) to the record."""
        with session_scope(self.database_url) as session:
            cases.record_amendment(session, outcome)
        log.info("amendment.recorded", request_id=outcome.request_id, outcome=outcome.outcome)

    @activity.defn(name=names.CHANGE_PROXY)
    def change_proxy(self, change: ProxyChange) -> str:
        """Grant or end portal proxy access (the portal side is this outbox interface)."""
        payload = {
            "action": "grant" if change.grant else "end",
            "request_id": change.request_id,
            "basis": change.basis,
            "expires_on": change.expires_on.isoformat() if change.expires_on else None,
            "reason": change.reason,
        }
        path = self.outbox.write("portal", change.key, ".json", json.dumps(payload).encode())
        with session_scope(self.database_url) as session:
            cases.change_proxy(session, change)
        log.info("proxy.changed", request_id=change.request_id, grant=change.grant)
        return path.name

    @activity.defn(name=names.HAND_OFF)
    def hand_off(self, item: HandOff) -> str:
        """Route a case to another office through its inbox (an interface; a file here)."""
        payload = {"request_id": item.request_id, "office": item.office, "summary": item.summary}
        path = self.outbox.write(item.office, item.key, ".json", json.dumps(payload).encode())
        log.info("case.handed_off", request_id=item.request_id, office=item.office)
        return path.name

    @activity.defn(name=names.PATIENT_DISCLOSURES)
    def patient_disclosures(self, query: AccountingQuery) -> list[DisclosureEntry]:
        """Every logged disclosure of this patient's information (filtered by the workflow)."""
        with session_scope(self.database_url) as session:
            rows = cases.patient_disclosures(session, query.patient_key)
            suspensions = [
                ActiveSuspension(agency_name=s.agency_name, ends_on=s.ends_on)
                for s in cases.accounting_suspensions(session, query.patient_key)
            ]
        if query.compiled_on is not None:  # an agency's suspension leaves its disclosures out
            on = query.compiled_on
            rows = [
                r
                for r in rows
                if not is_suspended(r.recipient_name, r.disclosed_at, suspensions, on)
            ]
        return [
            DisclosureEntry(
                disclosed_at=r.disclosed_at,
                recipient_name=r.recipient_name,
                recipient_address=r.recipient_address,
                description=r.description,
                purpose=r.purpose,
                category=DisclosureCategory(r.category),
            )
            for r in rows
        ]

    @activity.defn(name=names.PRIOR_ACCOUNTINGS)
    def prior_accountings(self, query: AccountingQuery) -> list[str]:
        """Receipt dates (ISO) of this patient's other accounting requests."""
        with session_scope(self.database_url) as session:
            found = cases.prior_accountings(session, query.patient_key, query.request_id)
        return [d.date().isoformat() for d in found]

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.project_case,
            self.begin_release,
            self.apply_revocation,
            self.update_registry,
            self.record_amendment,
            self.change_proxy,
            self.hand_off,
            self.patient_disclosures,
            self.prior_accountings,
        ]
