"""The download links' policy on its own (domain/download_links.py): what a requester gets for
each use of a link, decided from what was recorded before it (no database, no app)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.download_links import SERVED, TRUSTING, LinkFacts, judge, refusal

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DOB = date(1984, 3, 9)
DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("found", "revoked_at", "expires_at", "expected"),
    [
        (False, None, None, "invalid"),
        (True, NOW - DAY, NOW + DAY, "revoked"),  # revoked wins over a live date
        (True, None, NOW, "expired"),  # expiry is exclusive
        (True, None, NOW + timedelta(seconds=1), None),
    ],
)
def test_a_link_that_does_not_work_says_why(
    found: bool, revoked_at: datetime | None, expires_at: datetime | None, expected: str | None
) -> None:
    assert refusal(found=found, revoked_at=revoked_at, expires_at=expires_at, now=NOW) == expected


def _judge(facts: LinkFacts, *, answered: bool = False, dob: date | None = None) -> str:
    return judge(facts, now=NOW, answered=answered, date_of_birth=dob, trusted_for=DAY)


def test_the_first_download_is_served_without_a_question() -> None:
    assert _judge(LinkFacts(served_before=False, trusted_since=None, patient_dob=None)) == "served"


def test_the_same_device_downloads_again_only_within_its_hours() -> None:
    recent = LinkFacts(served_before=True, trusted_since=NOW - timedelta(hours=23), patient_dob=DOB)
    stale = LinkFacts(served_before=True, trusted_since=NOW - DAY, patient_dob=DOB)
    assert _judge(recent) == "repeat"
    assert _judge(stale) == "dob_asked"


def test_any_other_device_must_give_the_patients_date_of_birth() -> None:
    other = LinkFacts(served_before=True, trusted_since=None, patient_dob=DOB)
    assert _judge(other) == "dob_asked"
    assert _judge(other, answered=True, dob=date(1984, 3, 10)) == "dob_wrong"
    assert _judge(other, answered=True, dob=None) == "dob_wrong"
    assert _judge(other, answered=True, dob=DOB) == "confirmed"


def test_no_date_of_birth_on_file_confirms_nobody() -> None:
    unknown = LinkFacts(served_before=True, trusted_since=None, patient_dob=None)
    assert _judge(unknown, answered=True, dob=date(1, 1, 1)) == "dob_wrong"


def test_what_counts_as_handing_the_records_over() -> None:
    assert set(TRUSTING) < set(SERVED)
    assert "repeat" in SERVED and "repeat" not in TRUSTING  # a repeat does not extend the hours
