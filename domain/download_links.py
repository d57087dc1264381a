"""Whether a use of a requester's download link hands the records over (pure).

A link downloads once without question; after that only the device that downloaded it (its
cookie's hash), within the trusted hours, downloads again as it is. Any other device (a
forwarded email), or the same one after its hours, must confirm the patient's date of birth.
The facts come from the link's row and its access events (store/links.py); the link service
(services/links.py) records each decision as an access event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: Outcomes that handed the records over: the link's first download, the same device again
#: within the trusted hours, and a download after the date of birth was confirmed.
SERVED = ("served", "repeat", "confirmed")
#: The ones that made a device trusted for the following hours.
TRUSTING = ("served", "confirmed")


@dataclass(frozen=True)
class LinkFacts:
    """What was recorded about a live link before this use."""

    served_before: bool  # it already handed its records over once
    trusted_since: datetime | None  # this device's last served or confirmed download
    patient_dob: date | None  # PHI: compared here, never kept or shown


def refusal(
    *, found: bool, revoked_at: datetime | None, expires_at: datetime | None, now: datetime
) -> str | None:
    """Why the link does not work at all (`invalid`, `revoked`, `expired`), or None: live."""
    if not found:
        return "invalid"
    if revoked_at is not None:
        return "revoked"
    if expires_at is None or expires_at <= now:
        return "expired"
    return None


def judge(
    facts: LinkFacts,
    *,
    now: datetime,
    answered: bool,
    date_of_birth: date | None,
    trusted_for: timedelta,
) -> str:
    """A live link: `served` for its first download, `repeat` for the device trusted within
    `trusted_for`, and for anyone else `dob_asked` (no answer yet), `dob_wrong` or
    `confirmed` (the right date of birth; that device is trusted from now)."""
    if not facts.served_before:
        return "served"
    if facts.trusted_since is not None and now - facts.trusted_since < trusted_for:
        return "repeat"
    if not answered:
        return "dob_asked"
    expected = facts.patient_dob
    stored = expected.isoformat() if expected else "0000-00-00"
    given = date_of_birth.isoformat() if date_of_birth else "x"
    return "confirmed" if _same(stored, given) and expected else "dob_wrong"


def judge_viewer(
    facts: LinkFacts,
    *,
    now: datetime,
    answered: bool,
    date_of_birth: date | None,
    trusted_for: timedelta,
) -> str:
    """A live link opened on the portal's study page, where the date of birth is asked on
    every new device, the first use too (a shared link reaches a doctor, who is told the date
    by the patient): `repeat` for the device that confirmed it within `trusted_for`, else
    `dob_asked`, `dob_wrong` or `confirmed`."""
    if facts.trusted_since is not None and now - facts.trusted_since < trusted_for:
        return "repeat"
    if not answered:
        return "dob_asked"
    expected = facts.patient_dob
    stored = expected.isoformat() if expected else "0000-00-00"
    given = date_of_birth.isoformat() if date_of_birth else "x"
    return "confirmed" if _same(stored, given) and expected else "dob_wrong"


def _same(stored: str, given: str) -> bool:
    """Equal, compared as digests: how long it takes says nothing about the date on file."""
    return hashlib.sha256(stored.encode()).digest() == hashlib.sha256(given.encode()).digest()
