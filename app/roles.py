"""Roles, what each may do, and which teams' requests each sees. Enforced on the server only.

Admins manage accounts and never read protected health information; supervisors see every
team at their sites; each specialist role sees its own team's queue; the privacy officer reads
the audit trail, security events and disclosures of every team at its sites and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum

from domain.kinds.common import Team


class Role(StrEnum):
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    AMENDMENT_SPECIALIST = "amendment_specialist"
    DATA_INTEGRITY_SPECIALIST = "data_integrity_specialist"
    ADMIN = "admin"
    PRIVACY_OFFICER = "privacy_officer"


class Can(StrEnum):
    """Capabilities checked by the routes."""

    WORK_QUEUE = "work_queue"  # see a queue, take the next request, claim, release own claim
    VIEW_REQUEST = "view_request"  # open a request (PHI) of a team and site the account covers
    ACT = "act"  # send actions (Updates) on such a request
    BOARD = "board"  # the supervisors' board
    REASSIGN = "reassign"  # move a claim to someone else, release anyone's claim
    AUDIT_TRAIL = "audit_trail"  # who viewed or changed a request
    SUBMIT_INTAKE = "submit_intake"  # key in a request through the intake API
    MANAGE_USERS = "manage_users"
    DECODE_PAYLOADS = "decode_payloads"  # open sealed Temporal payloads (/codec/decode)
    # read-only oversight (the privacy officer): the security-events log, the disclosures log,
    # and every team's audit trail and download-link accesses at the account's sites
    OVERSIGHT = "oversight"
    REPORTS = "reports"  # compliance, turnaround, breach log, work, fees, disclosures (no PHI)


_SPECIALIST = frozenset({Can.WORK_QUEUE, Can.VIEW_REQUEST, Can.ACT})

CAPABILITIES: dict[Role, frozenset[Can]] = {
    Role.SPECIALIST: _SPECIALIST | {Can.SUBMIT_INTAKE},
    Role.AMENDMENT_SPECIALIST: _SPECIALIST,
    Role.DATA_INTEGRITY_SPECIALIST: _SPECIALIST,
    Role.SUPERVISOR: _SPECIALIST
    | {
        Can.BOARD,
        Can.REASSIGN,
        Can.AUDIT_TRAIL,
        Can.SUBMIT_INTAKE,
        Can.DECODE_PAYLOADS,
        Can.REPORTS,
    },
    Role.ADMIN: frozenset({Can.MANAGE_USERS}),
    # reads what was done, changes nothing: no queue, no claims, no Updates
    Role.PRIVACY_OFFICER: frozenset(
        {Can.OVERSIGHT, Can.AUDIT_TRAIL, Can.DECODE_PAYLOADS, Can.REPORTS}
    ),
}

ALL_TEAMS = frozenset({Team.ROI, Team.AMENDMENT, Team.DATA_INTEGRITY, Team.BILLING})

TEAMS: dict[Role, frozenset[str]] = {
    Role.SPECIALIST: frozenset({Team.ROI, Team.BILLING}),
    Role.AMENDMENT_SPECIALIST: frozenset({Team.AMENDMENT}),
    Role.DATA_INTEGRITY_SPECIALIST: frozenset({Team.DATA_INTEGRITY}),
    Role.SUPERVISOR: ALL_TEAMS,
    Role.ADMIN: frozenset(),
    Role.PRIVACY_OFFICER: frozenset(),  # works no queue (oversight reads every team's trail)
}

LABELS: dict[Role, str] = {
    Role.SPECIALIST: "ROI specialist",
    Role.SUPERVISOR: "Supervisor",
    Role.AMENDMENT_SPECIALIST: "Amendment specialist",
    Role.DATA_INTEGRITY_SPECIALIST: "Data integrity specialist",
    Role.ADMIN: "Administrator",
    Role.PRIVACY_OFFICER: "Privacy officer",
}


def can(role: str, capability: Can) -> bool:
    """True when the role has the capability."""
    try:
        return capability in CAPABILITIES[Role(role)]
    except ValueError:
        return False


def teams_of(role: str) -> frozenset[str]:
    """Teams whose requests the role works."""
    try:
        return TEAMS[Role(role)]
    except ValueError:
        return frozenset()
