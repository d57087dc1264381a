"""A date promised to a requester falls on a business day, and a legal due date on a site
holiday is flagged to staff on the request page and in the queue (issue 15)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pypdf
from fastapi import FastAPI

from domain.calendar import business_day_on_or_before, due_on_holiday, is_business_day
from domain.notices import NoticeKind
from domain.types import Site
from letters import render_notice
from letters.samples import sample_notice
from tests.web.helpers import PASSWORD, add_staff, insert_request, sign_in

THANKSGIVING = date(2026, 11, 26)  # a Thursday
CHRISTMAS = date(2026, 12, 25)  # a Friday


def test_the_promised_date_is_a_business_day_never_later() -> None:
    assert business_day_on_or_before(Site.MINNESOTA, THANKSGIVING) == date(2026, 11, 25)
    assert business_day_on_or_before(Site.ARIZONA, date(2026, 11, 29)) == date(2026, 11, 27)
    assert business_day_on_or_before(Site.FLORIDA, date(2026, 11, 30)) == date(2026, 11, 30)
    for offset in range(400):
        day = date(2026, 1, 1) + timedelta(days=offset)
        for site in Site:
            found = business_day_on_or_before(site, day)
            assert found <= day and is_business_day(site, found)
    assert due_on_holiday(Site.WISCONSIN, CHRISTMAS)
    assert not due_on_holiday(Site.WISCONSIN, date(2026, 12, 26))  # a Saturday, not a holiday


def test_acknowledgement_expected_by_falls_on_a_business_day() -> None:
    pdf = render_notice(sample_notice(NoticeKind.ACKNOWLEDGEMENT, expected_date=THANKSGIVING))
    text = " ".join(
        "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "We expect to finish by November 25, 2026." in text
    assert "November 26, 2026" not in text


async def test_a_legal_due_date_on_a_holiday_is_flagged(web_app: FastAPI, web_db: str) -> None:
    add_staff(web_db, "web.holiday", PASSWORD, "specialist", ["wisconsin"])
    c = await sign_in(web_app, "web.holiday")
    now = datetime.now(UTC)
    on_holiday = insert_request(
        web_db, site="wisconsin", due_date=CHRISTMAS, received_at=now - timedelta(days=3)
    )
    ordinary = insert_request(
        web_db, site="wisconsin", due_date=date(2026, 12, 22), received_at=now - timedelta(days=3)
    )
    page = (await c.get(f"/requests/{on_holiday}")).text
    banner = re.search(r'id="holiday-due">(.*?)</div>', page, re.S)
    assert banner, page[:300]
    assert "Fri Dec 25 2026" in banner.group(1) and "Finish by Thu Dec 24 2026" in banner.group(1)
    assert 'id="holiday-due"' not in (await c.get(f"/requests/{ordinary}")).text
    queue = (await c.get("/queue?site=wisconsin")).text
    rows = dict(re.findall(r'data-request="(\w+)">(.*?)</tr>', queue, re.S))
    assert "data-holiday-due" in rows[on_holiday]
    assert "data-holiday-due" not in rows[ordinary]
