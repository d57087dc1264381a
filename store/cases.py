"""Read-model writes for cases, revocations, the patient registry, amendments and proxies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col

from domain.effects import AmendmentOutcome, AuditEvent, ProxyChange, RegistryUpdate
from domain.ids import workflow_id_for
from domain.kinds.case import CaseState
from store.models import (
    AccountingSuspension,
    AmendmentRecord,
    AuthorizationRecord,
    Disclosure,
    PatientRegistry,
    ProxyGrant,
    RecordRequest,
    RequestEvent,
)

#: Requests released without a patient authorization: nothing there for a revocation to revoke.
NO_AUTHORIZATION_KINDS = frozenset({"access_own", "imaging", "court_order"})


class AuthorizationRevokedError(Exception):
    """The authorization was revoked before this release started."""


def case_row(state: CaseState, version: int) -> dict[str, Any]:
    start, clock = state.start, state.clock
    submission = start.submission.model_dump(mode="json")  # the kind's own fields
    return {
        "id": start.request_id,
        "workflow_id": workflow_id_for(start.request_id),
        "tracking_number": start.tracking_number,
        "kind": start.kind.value,
        "team": start.team,
        "site": start.site.value,
        "channel": str(submission.get("channel", "portal")),
        "language": start.language.value,
        "status": state.status.value,
        "delivery_method": submission.get("delivery_method"),
        "patient_key": start.patient_key,
        "received_at": clock.received_at,
        "target_due_at": clock.target_due_at,
        "due_at": clock.due_at,
        "original_due_date": clock.original_due_date,
        "due_date": clock.due_date,
        "extended": clock.extended,
        "at_risk": state.at_risk,
        "legal_risk": state.legal_risk,
        "breached": state.breached,
        "fee_cents": state.fee.total_cents,
        "paid_cents": state.paid_cents,
        "verified": False,
        "patient_name": start.patient_name,
        "patient_dob": start.patient_date_of_birth,
        "patient_mrn": (submission.get("patient") or {}).get("mrn"),
        "requester_name": start.requester_name,
        "recipient_name": start.requester_name,
        "summary": {
            "deficiencies": [d.model_dump() for d in state.deficiencies],
            "outcome": state.outcome.model_dump(mode="json"),
            "extension_reason": clock.extension_reason,
        },
        "closed_at": state.closed_at,
        "state_version": version,
    }


def project_case(session: Session, state: CaseState, version: int, event: AuditEvent) -> bool:
    row = case_row(state, version)
    stmt = insert(RecordRequest).values(**row, updated_at=func.now())
    changing = {
        k: stmt.excluded[k] for k in row if k not in ("id", "workflow_id", "tracking_number")
    }
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={**changing, "updated_at": func.now()},
            where=RecordRequest.state_version < stmt.excluded.state_version,
        )
    )
    result = session.execute(
        insert(RequestEvent)
        .values(
            event_key=event.key,
            request_id=state.request_id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            from_status=event.from_status,
            to_status=event.to_status,
            detail=event.detail,
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(col(RequestEvent.id))
    )
    return result.first() is not None


def register_authorization(session: Session, request_id: str, patient_key: str | None) -> None:
    """Remember an authorization the hospital may rely on (once)."""
    session.execute(
        insert(AuthorizationRecord)
        .values(
            authorization_ref=f"{request_id}-authorization",
            request_id=request_id,
            patient_key=patient_key,
        )
        .on_conflict_do_nothing(index_elements=["authorization_ref"])
    )


def begin_release(session: Session, authorization_ref: str, request_id: str, at: datetime) -> None:
    """Under a row lock: refuse if revoked, else mark the release as started (in reliance)."""
    register_authorization(session, request_id, None)
    row = session.execute(
        select(AuthorizationRecord)
        .where(col(AuthorizationRecord.authorization_ref) == authorization_ref)
        .with_for_update()
    ).scalar_one()
    if row.status == "revoked":
        raise AuthorizationRevokedError(authorization_ref)
    if row.release_started_at is None:
        row.release_started_at = at


def authorization_revoked(session: Session, authorization_ref: str) -> bool:
    """Whether this authorization was revoked (a read, no lock: release_facts)."""
    status = session.execute(
        select(col(AuthorizationRecord.status)).where(
            col(AuthorizationRecord.authorization_ref) == authorization_ref
        )
    ).scalar_one_or_none()
    return status == "revoked"


def apply_revocation(
    session: Session,
    revocation_request_id: str,
    patient_key: str,
    tracking_numbers: list[str],
    at: datetime,
) -> list[tuple[str, str | None, bool]]:
    """Revoke each named authorization of this patient under its row lock.

    Returns (tracking number, request id or None, whether a release had already started).
    """
    done: list[tuple[str, str | None, bool]] = []
    for tracking in tracking_numbers:
        request = session.execute(
            select(RecordRequest).where(
                col(RecordRequest.tracking_number) == tracking.upper(),
                col(RecordRequest.patient_key) == patient_key,
            )
        ).scalar_one_or_none()
        if request is None or request.kind in NO_AUTHORIZATION_KINDS:
            done.append((tracking.upper(), None, False))
            continue
        register_authorization(session, request.id, patient_key)
        row = session.execute(
            select(AuthorizationRecord)
            .where(col(AuthorizationRecord.authorization_ref) == f"{request.id}-authorization")
            .with_for_update()
        ).scalar_one()
        if row.status != "revoked":
            row.status = "revoked"
            row.revoked_at = at
            row.revocation_request_id = revocation_request_id
        done.append((tracking.upper(), request.id, row.release_started_at is not None))
    return done


def update_registry(session: Session, change: RegistryUpdate) -> None:
    values: dict[str, Any] = {"patient_key": change.patient_key}
    if change.deceased_on:
        values |= {
            "deceased_on": change.deceased_on,
            "deceased_recorded_at": change.at,
            "deceased_request_id": change.request_id,
        }
    if change.adoption:
        values |= {"adoption_recorded_at": change.at, "adoption_request_id": change.request_id}
    stmt = insert(PatientRegistry).values(**values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["patient_key"],
            set_={k: stmt.excluded[k] for k in values if k != "patient_key"},
        )
    )


def deceased_on(session: Session, patient_key: str) -> date | None:
    """The date of death Data Integrity recorded, if any."""
    return session.execute(
        select(col(PatientRegistry.deceased_on)).where(
            col(PatientRegistry.patient_key) == patient_key
        )
    ).scalar_one_or_none()


def record_amendment(session: Session, outcome: AmendmentOutcome) -> None:
    values = outcome.model_dump(exclude={"at"}) | {"decided_at": outcome.at}
    stmt = insert(AmendmentRecord).values(**values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["request_id"],
            set_={k: stmt.excluded[k] for k in values if k != "request_id"},
        )
    )


def amendments_for(session: Session, patient_key: str) -> list[AmendmentRecord]:
    """Amendment outcomes that travel with later disclosures of this patient's records."""
    return list(
        session.execute(
            select(AmendmentRecord).where(
                col(AmendmentRecord.patient_key) == patient_key,
                col(AmendmentRecord.include_with_disclosures).is_(True),
            )
        ).scalars()
    )


def change_proxy(session: Session, change: ProxyChange) -> None:
    if change.grant:
        session.execute(
            insert(ProxyGrant)
            .values(
                request_id=change.request_id,
                patient_key=change.patient_key,
                proxy_name=change.proxy_name,
                basis=change.basis,
                status="active",
                granted_at=change.at,
                expires_on=change.expires_on,
            )
            .on_conflict_do_nothing(index_elements=["request_id"])
        )
    else:
        session.execute(
            update(ProxyGrant)
            .where(
                col(ProxyGrant.request_id) == change.request_id, col(ProxyGrant.status) == "active"
            )
            .values(status="ended", ended_at=change.at, end_reason=change.reason)
        )


def patient_disclosures(session: Session, patient_key: str) -> list[Disclosure]:
    return list(
        session.execute(
            select(Disclosure)
            .where(col(Disclosure.patient_key) == patient_key)
            .order_by(col(Disclosure.disclosed_at))
        ).scalars()
    )


def prior_accountings(session: Session, patient_key: str, request_id: str) -> list[datetime]:
    """When this patient's earlier accounting requests were received."""
    return list(
        session.execute(
            select(col(RecordRequest.received_at)).where(
                col(RecordRequest.patient_key) == patient_key,
                col(RecordRequest.kind) == "accounting",
                col(RecordRequest.id) != request_id,
                col(RecordRequest.status).not_in(["cancelled"]),
            )
        ).scalars()
    )


def accounting_suspensions(session: Session, patient_key: str) -> list[AccountingSuspension]:
    """Every suspension recorded for this patient (164.528(a)(2)), oldest first."""
    return list(
        session.execute(
            select(AccountingSuspension)
            .where(col(AccountingSuspension.patient_key) == patient_key)
            .order_by(col(AccountingSuspension.id))
        ).scalars()
    )


def add_accounting_suspension(session: Session, suspension: AccountingSuspension) -> None:
    """Record an agency's suspension of a patient's accounting (append-only)."""
    session.add(suspension)
