"""Each HIMS team's contact, as the hospital's page lists it (DOMAIN.md, "Teams' contacts").

Data, not code: the one table letters (letterhead, return address, "questions?" line) and the
web pages that show a contact (/status, the request page) read. Keyed by team (the read
model's `team` column, `domain.kinds.common.Team`). Release of Information keeps each site's
hours (domain.sites); the other two teams list no hours, so none are printed for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.kinds.common import Team
from domain.notices import NoticeKind


@dataclass(frozen=True)
class TeamContact:
    """How a requester reaches one team."""

    team: str
    name: str  # the team's name, in English (staff pages and the public status page)
    email: str
    mailing_address: tuple[str, ...]  # as the USPS reads it (return address)
    phone: str | None = None
    phone_option: str | None = None  # the menu option to choose on that line
    fax: str | None = None
    site_hours: bool = False  # the site's business hours apply (domain.sites)

    @property
    def address_line(self) -> str:
        """The mailing address on one line."""
        return ", ".join(self.mailing_address)


_JACKSONVILLE = ("Campus Support Center", "4500 San Pablo Road", "Jacksonville, FL 32224")

CONTACTS: dict[str, TeamContact] = {
    Team.ROI: TeamContact(
        team=Team.ROI,
        name="Release of Information",
        phone="507-284-4594",
        fax="507-284-0161",
        email="MAYOHIMSROI@mayo.edu",
        mailing_address=(
            "Health Information Management Services",
            "Release of Information",
            "Mayo Clinic",
            "200 First St. SW",
            "Rochester, MN 55905",
        ),
        site_hours=True,
    ),
    Team.AMENDMENT: TeamContact(
        team=Team.AMENDMENT,
        name="Amendment Request Specialist",
        phone="507-538-7700",
        phone_option="1",
        email="HIMSAMENDMENTREQ@mayo.edu",
        mailing_address=("HIMS, Attn: Amendment Request Specialist", *_JACKSONVILLE),
    ),
    Team.DATA_INTEGRITY: TeamContact(
        team=Team.DATA_INTEGRITY,
        name="HIMS Data Integrity",
        email="PATRECUPDREQ@mayo.edu",
        mailing_address=("HIMS, Attn: HIMS Data Integrity", *_JACKSONVILLE),
    ),
}

#: Letters only one team ever sends; any other kind is sent by the request's team.
NOTICE_TEAMS: dict[NoticeKind, str] = {
    NoticeKind.AMENDMENT_ACCEPTED: Team.AMENDMENT,
    NoticeKind.AMENDMENT_DENIED: Team.AMENDMENT,
    NoticeKind.AMENDMENT_NOTIFICATION: Team.AMENDMENT,
    NoticeKind.DECEASED_RECORDED: Team.DATA_INTEGRITY,
    NoticeKind.ADOPTION_ACCEPTED: Team.DATA_INTEGRITY,
    NoticeKind.ADOPTION_REJECTED: Team.DATA_INTEGRITY,
}


def team_contact(team: str | None) -> TeamContact:
    """The contact of a team; a team with none of its own listed (billing) gets ROI's."""
    return CONTACTS.get(team or Team.ROI, CONTACTS[Team.ROI])


def notice_team(kind: NoticeKind | str, team: str | None = None) -> str:
    """The team a letter speaks for: its kind's team, else the request's, else ROI."""
    fixed = NOTICE_TEAMS.get(NoticeKind(kind))
    if fixed is not None:
        return fixed
    return team if team in CONTACTS else Team.ROI
