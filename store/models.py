"""The read model, queue, disclosures and audit trail the staff app reads (PostgreSQL).

The workflow is the source of truth for a request; activities project its state here.
Columns holding PHI are marked; nothing else (ids, codes, timestamps) is PHI.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from domain.types import ACTIONABLE_STATUSES
from store.tables import table_of


def _ts(nullable: bool = True, **kw: Any) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, **kw))


class IntakeSubmission(SQLModel, table=True):
    """Every submission exactly as received, stored before validation so none is ever lost."""

    __tablename__ = "intake_submissions"

    id: str = Field(primary_key=True, max_length=32)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    stored_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )
    channel: str = Field(max_length=16)
    source: str = Field(max_length=16)  # cli, api, portal, demo
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    payload: Any = Field(sa_column=Column(JSONB, nullable=False))  # PHI
    outcome: str = Field(default="received", max_length=16)  # received, accepted, rejected
    errors: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))
    request_id: str | None = Field(default=None, max_length=32, index=True)
    tracking_number: str | None = Field(default=None, max_length=16)


class RecordRequest(SQLModel, table=True):
    """One row per request: what the queue and the supervisors' board read."""

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_open_due", "site", "status", "due_at"),
        Index(
            "ix_requests_queue",
            "due_at",
            "target_due_at",
            postgresql_where=text("status NOT IN ('completed','denied','cancelled')"),
        ),
    )

    id: str = Field(primary_key=True, max_length=32)
    workflow_id: str = Field(max_length=40, unique=True)
    tracking_number: str = Field(max_length=16, unique=True)
    kind: str = Field(max_length=32, index=True)
    team: str = Field(default="roi", max_length=32, index=True)
    site: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    language: str = Field(max_length=8)
    status: str = Field(max_length=32)
    delivery_method: str | None = Field(default=None, max_length=16)
    patient_key: str | None = Field(default=None, max_length=64, index=True)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    target_due_at: datetime | None = _ts()
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    original_due_date: date
    due_date: date
    extended: bool = False
    at_risk: bool = False
    legal_risk: bool = False
    breached: bool = False
    fee_cents: int = 0
    paid_cents: int = 0
    verified: bool = False
    assignee: str | None = Field(default=None, max_length=64, index=True)
    claimed_at: datetime | None = _ts()
    patient_name: str = Field(max_length=320)  # PHI
    patient_dob: date  # PHI
    patient_mrn: str | None = Field(default=None, max_length=20)  # PHI
    requester_name: str = Field(max_length=320)  # PHI
    recipient_name: str = Field(max_length=320)  # PHI
    summary: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))
    closed_at: datetime | None = _ts()
    updated_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )
    state_version: int = 0  # workflow's event counter: older projections never overwrite newer


# The queue's partial indexes on `requests` (migrations 0003_staff_web, 0020_claim_next_index),
# declared here so the store owns them and Alembic's autogenerate knows them.
#: Stages in which a request waits for the hospital's own staff ("next request" takes these).
_ACTIONABLE_SQL = ", ".join(f"'{s.value}'" for s in ACTIONABLE_STATUSES)
# Unclaimed work in due order, per team: claim-next for an every-site account reads the first
# row that is not locked.
CLAIMABLE_INDEX = Index(
    "ix_requests_claimable",
    table_of(RecordRequest).c.team,
    table_of(RecordRequest).c.due_at,
    table_of(RecordRequest).c.target_due_at,
    postgresql_where=text(f"assignee IS NULL AND status IN ({_ACTIONABLE_SQL})"),
)
# The same per team and site: a site-restricted account's claim-next starts at its own sites'
# first rows instead of walking past every other site's.
CLAIMABLE_SITE_INDEX = Index(
    "ix_requests_claimable_site",
    table_of(RecordRequest).c.team,
    table_of(RecordRequest).c.site,
    table_of(RecordRequest).c.due_at,
    table_of(RecordRequest).c.target_due_at,
    postgresql_where=text(f"assignee IS NULL AND status IN ({_ACTIONABLE_SQL})"),
)
# Claims that may have timed out.
CLAIMED_INDEX = Index(
    "ix_requests_claimed_at",
    table_of(RecordRequest).c.claimed_at,
    postgresql_where=text("assignee IS NOT NULL"),
)


class BoardSummary(SQLModel, table=True):
    """Open requests counted by everything the board asks about, kept by a trigger on
    `requests` (migration 0003_staff_web): the board reads a few thousand rows, not 100,000.

    `target_due_at` is 'infinity' when a kind has no target; `received_day` is the UTC day.
    """

    __tablename__ = "board_summary"

    site: str = Field(primary_key=True, max_length=16)
    team: str = Field(primary_key=True, max_length=32)
    status: str = Field(primary_key=True, max_length=32)
    received_day: datetime = Field(
        sa_column=Column(DateTime(timezone=True), primary_key=True, nullable=False)
    )
    target_due_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), primary_key=True, nullable=False)
    )
    due_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), primary_key=True, nullable=False)
    )
    due_date: date = Field(primary_key=True)
    breached: bool = Field(primary_key=True)
    at_risk: bool = Field(primary_key=True)
    legal_risk: bool = Field(primary_key=True)
    n: int = 0


class RequestEvent(SQLModel, table=True):
    """Append-only audit trail: every state change and staff action (UPDATE/DELETE refused)."""

    __tablename__ = "request_events"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    event_key: str = Field(max_length=200, unique=True)  # request id + step: retries add nothing
    request_id: str = Field(max_length=32, index=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor: str = Field(max_length=64)  # staff user id, or "system"
    action: str = Field(max_length=64)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    detail: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))


class Disclosure(SQLModel, table=True):
    """One row per release: who, what, to whom, why, when (and the accounting category)."""

    __tablename__ = "disclosures"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    disclosure_key: str = Field(max_length=200, unique=True)
    request_id: str = Field(max_length=32, index=True)
    disclosed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    disclosed_by: str = Field(max_length=64)
    recipient_name: str = Field(max_length=320)  # PHI
    recipient_address: str | None = Field(default=None, max_length=1000)  # PHI
    description: str = Field(max_length=2000)  # PHI
    purpose: str = Field(max_length=1000)
    method: str = Field(max_length=16)
    category: str = Field(max_length=32)
    authorization_ref: str | None = Field(default=None, max_length=64)
    patient_key: str | None = Field(default=None, max_length=64, index=True)
    source: str = Field(default="engine", max_length=16)  # engine, or staff (recorded by hand)


class AccountingSuspension(SQLModel, table=True):
    """An agency's request to suspend a patient's accounting of the disclosures made to it
    (164.528(a)(2)); append-only: a new request is a new row."""

    __tablename__ = "accounting_suspensions"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    suspension_key: str = Field(max_length=64, unique=True)
    patient_key: str = Field(max_length=64, index=True)
    agency_type: str = Field(max_length=32)  # health_oversight, law_enforcement
    agency_name: str = Field(max_length=320)
    form: str = Field(max_length=16)  # written, oral
    received_on: date
    ends_on: date
    statement: str = Field(max_length=2000)
    official_name: str | None = Field(default=None, max_length=200)
    official_identity: str | None = Field(default=None, max_length=200)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    request_id: str | None = Field(default=None, max_length=32)


class Notification(SQLModel, table=True):
    """Messages to staff (assignee reminders, supervisor escalations)."""

    __tablename__ = "notifications"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    notification_key: str = Field(max_length=200, unique=True)
    request_id: str = Field(max_length=32, index=True)
    audience: str = Field(max_length=64)  # e.g. supervisor:arizona, assignee
    kind: str = Field(max_length=32)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    read_at: datetime | None = _ts()


class OutboundItem(SQLModel, table=True):
    """Everything sent out (letters, emails, print and ship jobs), once per key."""

    __tablename__ = "outbound_items"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    item_key: str = Field(max_length=200, unique=True)
    request_id: str = Field(max_length=32, index=True)
    channel: str = Field(max_length=16)  # letter, email, print, ship
    kind: str = Field(max_length=32)
    path: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    detail: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))


class AuthorizationRecord(SQLModel, table=True):
    """One row per authorization relied on; the row lock serializes release and revocation."""

    __tablename__ = "authorizations"

    authorization_ref: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=32, index=True)
    patient_key: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(default="active", max_length=16)  # active, revoked
    release_started_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()
    revocation_request_id: str | None = Field(default=None, max_length=32)


class PatientRegistry(SQLModel, table=True):
    """What HIMS Data Integrity has recorded about a patient (deceased, adoption)."""

    __tablename__ = "patient_registry"

    patient_key: str = Field(primary_key=True, max_length=64)
    deceased_on: date | None = None
    deceased_recorded_at: datetime | None = _ts()
    deceased_request_id: str | None = Field(default=None, max_length=32)
    adoption_recorded_at: datetime | None = _ts()
    adoption_request_id: str | None = Field(default=None, max_length=32)


class AmendmentRecord(SQLModel, table=True):
    """An amendment outcome linked to the record; it travels with later disclosures."""

    __tablename__ = "amendments"

    request_id: str = Field(primary_key=True, max_length=32)
    patient_key: str = Field(max_length=64, index=True)
    outcome: str = Field(max_length=16)  # accepted, denied
    record_description: str = Field(max_length=1000)  # PHI
    amendment_text: str | None = Field(default=None, max_length=4000)  # PHI
    denial_basis: str | None = Field(default=None, max_length=64)
    disagreement: str | None = Field(default=None, max_length=4000)  # PHI
    rebuttal: str | None = Field(default=None, max_length=4000)  # PHI
    include_with_disclosures: bool = True
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ProxyGrant(SQLModel, table=True):
    """Proxy access granted (or ended) for a patient's records and portal."""

    __tablename__ = "proxy_grants"

    request_id: str = Field(primary_key=True, max_length=32)
    patient_key: str = Field(max_length=64, index=True)
    proxy_name: str = Field(max_length=320)  # PHI
    basis: str = Field(max_length=32)
    status: str = Field(max_length=16)  # active, ended
    granted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_on: date | None = None
    ended_at: datetime | None = _ts()
    end_reason: str | None = Field(default=None, max_length=64)


class OutsideRecordsRedirect(SQLModel, table=True):
    """Outside records sent to ROI by mistake: counted, never queued."""

    __tablename__ = "outside_records_redirects"

    submission_id: str = Field(primary_key=True, max_length=32)
    site: str = Field(max_length=16, index=True)
    channel: str = Field(max_length=16)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DownloadLink(SQLModel, table=True):
    """A signed, expiring, revocable link to one request's released records (one patient)."""

    __tablename__ = "download_links"

    id: str = Field(primary_key=True, max_length=32)  # opaque; the signed token carries it
    delivery_key: str = Field(max_length=200, unique=True)  # one link per delivery, ever
    request_id: str = Field(max_length=32, index=True)
    patient_key: str | None = Field(default=None, max_length=64)
    package_path: str = Field(max_length=500)
    content_type: str = Field(default="application/pdf", max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = _ts()
    revoked_by: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = _ts()  # when the email carrying it was handed to SMTP
    # a link the patient made on the portal's study page for another doctor (issue 18): the
    # link it was shared from, and to whom (PHI: the disclosure row says the same)
    shared_from: str | None = Field(default=None, max_length=32, index=True)
    shared_with: str | None = Field(default=None, max_length=320)


class DownloadAccess(SQLModel, table=True):
    """Every use of a download link (served or refused): an access event (append-only)."""

    __tablename__ = "download_access_events"
    __table_args__ = (Index("ix_download_access_events_link_device", "link_id", "device"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    link_id: str | None = Field(default=None, max_length=32, index=True)
    request_id: str | None = Field(default=None, max_length=32, index=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # served (the link's first download), repeat (the same device again, within the hours),
    # confirmed (served after the date of birth), dob_asked, dob_wrong, expired, revoked, invalid
    outcome: str = Field(max_length=16)
    client: str | None = Field(default=None, max_length=64)
    device: str | None = Field(default=None, max_length=64)  # hash of the device cookie
    # what the portal's study page served: page, zip, or preview:<name> (None: the download)
    item: str | None = Field(default=None, max_length=32)


class BatchItem(SQLModel, table=True):
    """A request waiting for (or sent by) its site's mail/CD/FedEx batch; once per delivery."""

    __tablename__ = "batch_items"
    __table_args__ = (Index("ix_batch_items_ready", "site", "status", "queued_at"),)

    delivery_key: str = Field(primary_key=True, max_length=200)
    request_id: str = Field(max_length=32, index=True)
    workflow_id: str = Field(max_length=40)
    site: str = Field(max_length=16)
    method: str = Field(max_length=16)
    delivery: Any = Field(sa_column=Column(JSONB, nullable=False))  # PHI (names, address)
    queued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(default="queued", max_length=16)  # queued, sent, held
    batch_id: str | None = Field(default=None, max_length=64, index=True)
    reference: str | None = Field(default=None, max_length=200)
    carrier_tracking_number: str | None = Field(default=None, max_length=64)
    pages: int | None = None
    hold_reason: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = _ts()
    signalled_at: datetime | None = _ts()


class BatchRun(SQLModel, table=True):
    """One run of a site's batch: when, what it built, how it ended (the board reads this)."""

    __tablename__ = "batch_runs"

    batch_id: str = Field(primary_key=True, max_length=64)
    site: str = Field(max_length=16, index=True)
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = _ts()
    status: str = Field(default="running", max_length=16)  # running, finished, skipped, failed
    trigger: str = Field(default="schedule", max_length=16)  # schedule, manual
    counts: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))
    artifacts: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))


class SecurityEvent(SQLModel, table=True):
    """Append-only record of security-relevant actions (who decoded Temporal payloads, …).

    Actor is an account's opaque id; detail carries codes, counts and request ids, never PHI.
    """

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_action_at", "action", "at"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    at: datetime = Field(
        sa_column=Column(
            DateTime(timezone=True), nullable=False, index=True, server_default=text("now()")
        )
    )
    actor: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64)
    outcome: str = Field(max_length=16)  # ok, refused, failed
    client: str | None = Field(default=None, max_length=64)  # client address, when known
    detail: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))


class RequestSearch(SQLModel, table=True):
    """Append-only record of every staff search (who, when, what kind, how many, which ids were
    shown). `query` is what was typed (PHI): kept here for the privacy officer, never logged."""

    __tablename__ = "request_searches"
    __table_args__ = (
        Index("ix_request_searches_actor_at", "actor", "at"),
        Index("ix_request_searches_at", "at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )
    actor: str = Field(max_length=64)  # the account's opaque id
    kind: str = Field(max_length=16)  # tracking, name, dob, mrn, requester, refused
    query: str = Field(max_length=200)  # PHI
    results: int
    page: int = 1
    request_ids: Any = Field(default=None, sa_column=Column(JSONB, nullable=True))
    client: str | None = Field(default=None, max_length=64)  # opaque label of the address
