"""Who acts from the command line: `--actor` (or ROI_ACTOR) names an active staff account.

The CLI acts as that account, with the roles, teams and sites the web app enforces
(app/roles.py): the account must exist and be active, its role must have the capability, and a
request it acts on must be of a team its role works at a site it covers. The audit trail and the
workflow record the account's opaque id, as the web app does (so one person is one actor
whichever way they act: a second-specialist check cannot be passed by switching channels);
what was typed never reaches them.

Refusal messages never repeat what was typed (it could be anything, even a patient's name).
"""

from __future__ import annotations

from app.accounts import Account, account_of
from app.roles import LABELS, Can, Role, can, teams_of
from store import requests, staff
from store.db import session_scope

#: What each capability lets the CLI do, for refusal messages.
_DOING: dict[Can, str] = {
    Can.ACT: "work requests (staff actions)",
    Can.REASSIGN: "reassign requests",
    Can.AUDIT_TRAIL: "read the audit trail",
    Can.BOARD: "see the supervisors' board",
    Can.MANAGE_USERS: "manage accounts",
    Can.SUBMIT_INTAKE: "key in requests",
    Can.WORK_QUEUE: "work a queue",
    Can.VIEW_REQUEST: "open requests",
}


_TEAM_WORK: dict[str, str] = {
    "roi": "the ROI team",
    "amendment": "the amendment team",
    "data_integrity": "the data integrity team",
    "billing": "billing",
}


class ActorRefused(Exception):
    """The named account may not do this; the message says why (no PHI, nothing typed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def acting_account(database_url: str, actor: str | None) -> Account:
    """The active staff account whose username is `actor` (compared as stored: trimmed,
    lower-case). Raises ActorRefused when there is none, or it is deactivated."""
    name = (actor or "").strip().lower()
    if not name:
        raise ActorRefused("Give --actor (or set ROI_ACTOR): your staff account's username.")
    with session_scope(database_url) as session:
        user = staff.user_by_username(session, name)
        if user is None:
            raise ActorRefused(
                "--actor must be the username of a staff account, and no account has that "
                "username (see `roi users list`)."
            )
        if not user.active:
            raise ActorRefused("That staff account is deactivated: it can no longer act.")
        return account_of(user)


def _label(role: str) -> str:
    try:
        return LABELS[Role(role)]
    except ValueError:
        return "This"


def authorize(
    account: Account, capability: Can, *, team: str | None = None, site: str | None = None
) -> None:
    """Refuse unless the account's role has the capability and, when given, works the team
    and covers the site (ActorRefused)."""
    if not can(account.role, capability):
        doing = _DOING.get(capability, capability.value)
        raise ActorRefused(f"{_label(account.role)} accounts cannot {doing}.")
    if team is not None and team not in teams_of(account.role):
        raise ActorRefused(
            f"This request is {_TEAM_WORK.get(team, 'another team')}'s work; "
            f"{_label(account.role)} accounts do not work it."
        )
    if site is not None and not account.covers(site):
        raise ActorRefused("Your account does not cover this request's site.")


def authorize_on_request(
    database_url: str, account: Account, request_id: str, capability: Can = Can.ACT
) -> None:
    """Refuse unless the account may act on this request (its team and site, as on the web)."""
    with session_scope(database_url) as session:
        row = requests.request_row(session, request_id)
        team, site = (row.team, row.site) if row is not None else (None, None)
    # no such request: only the capability can be checked (the caller reports it missing)
    authorize(account, capability, team=team, site=site)
