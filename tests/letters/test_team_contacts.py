"""Each team's letters give that team's contact as the hospital page lists it (issue 15), and
the completion letter gives the FedEx tracking number and the $45 receipt."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date

import pypdf
import pytest

from domain.contacts import CONTACTS, notice_team, team_contact
from domain.kinds.common import Team
from domain.notices import NoticeKind, PaymentReceipt
from domain.sites import site_profile
from domain.types import Language, Site
from letters import render_notice
from letters.samples import sample_notice

ROI_ONLY = ("MAYOHIMSROI@mayo.edu", "507-284-0161", "507-284-4594", "200 First St. SW")
JACKSONVILLE = ("Campus Support Center", "4500 San Pablo Road", "Jacksonville, FL 32224")


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    return text.replace("\u2068", "").replace("\u2069", "")


def test_the_contacts_are_the_hospital_pages() -> None:
    roi, amendment, data = (CONTACTS[t] for t in (Team.ROI, Team.AMENDMENT, Team.DATA_INTEGRITY))
    assert (roi.phone, roi.fax, roi.email) == (
        "507-284-4594",
        "507-284-0161",
        "MAYOHIMSROI@mayo.edu",
    )
    assert roi.mailing_address[-2:] == ("200 First St. SW", "Rochester, MN 55905")
    assert roi.site_hours
    assert (amendment.email, amendment.phone, amendment.phone_option) == (
        "HIMSAMENDMENTREQ@mayo.edu",
        "507-538-7700",
        "1",
    )
    assert amendment.mailing_address == ("HIMS, Attn: Amendment Request Specialist", *JACKSONVILLE)
    assert data.email == "PATRECUPDREQ@mayo.edu" and data.phone is None and data.fax is None
    assert data.mailing_address == ("HIMS, Attn: HIMS Data Integrity", *JACKSONVILLE)
    # the sites read the ROI office's contact from the same table
    assert site_profile(Site.FLORIDA).roi_email == roi.email
    assert site_profile(Site.FLORIDA).mailing_address == roi.mailing_address
    assert team_contact(Team.BILLING) == roi  # billing lists no contact of its own


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(
    "kind",
    [NoticeKind.AMENDMENT_ACCEPTED, NoticeKind.AMENDMENT_DENIED, NoticeKind.AMENDMENT_NOTIFICATION],
)
def test_amendment_letters_give_the_amendment_specialists_contact(
    kind: NoticeKind, language: Language
) -> None:
    text = text_of(render_notice(sample_notice(kind, language)))
    assert "HIMSAMENDMENTREQ@mayo.edu" in text
    assert "Attn: Amendment Request Specialist" in text
    for line in JACKSONVILLE:
        assert line in text, line
    assert "507-538-7700" in text
    assert re.search(r"(option|opción|الخيار|doorashada|xaiv)\s*1|1\s*،?\s*الخيار", text), text
    for roi in ROI_ONLY:
        assert roi not in text, (kind, language, roi)


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(
    "kind",
    [NoticeKind.DECEASED_RECORDED, NoticeKind.ADOPTION_ACCEPTED, NoticeKind.ADOPTION_REJECTED],
)
def test_data_integrity_letters_give_data_integritys_contact(
    kind: NoticeKind, language: Language
) -> None:
    text = text_of(render_notice(sample_notice(kind, language)))
    assert "PATRECUPDREQ@mayo.edu" in text
    assert "Attn: HIMS Data Integrity" in text
    for line in JACKSONVILLE:
        assert line in text, line
    for roi in ROI_ONLY:
        assert roi not in text, (kind, language, roi)


@pytest.mark.parametrize("language", list(Language))
def test_roi_letters_give_roi_contact_with_the_sites_hours(language: Language) -> None:
    for site, hours in ((Site.MINNESOTA, "Central"), (Site.ARIZONA, "Mountain")):
        text = text_of(
            render_notice(sample_notice(NoticeKind.ACKNOWLEDGEMENT, language, site=site))
        )
        for roi in ROI_ONLY:
            assert roi in text, (language, roi)
        assert "Rochester, MN 55905" in text
        assert "HIMSAMENDMENTREQ" not in text and "PATRECUPDREQ" not in text
        if language == Language.EN:
            assert f"({hours} time)" in text


def test_a_letter_of_the_amendment_team_of_any_kind_speaks_for_it() -> None:
    """The acknowledgement or extension of an amendment request: the request's team."""
    for kind in (NoticeKind.ACKNOWLEDGEMENT, NoticeKind.EXTENSION, NoticeKind.CANCELLATION):
        text = text_of(render_notice(sample_notice(kind, team=Team.AMENDMENT)))
        assert "HIMSAMENDMENTREQ@mayo.edu" in text and "MAYOHIMSROI" not in text, kind
        assert "Amendment Request Specialist, Health Information Management Services" in text
    text = text_of(
        render_notice(sample_notice(NoticeKind.ACKNOWLEDGEMENT, team=Team.DATA_INTEGRITY))
    )
    assert "PATRECUPDREQ@mayo.edu" in text and "MAYOHIMSROI" not in text
    assert notice_team(NoticeKind.AMENDMENT_DENIED, Team.ROI) == Team.AMENDMENT
    assert notice_team(NoticeKind.ACKNOWLEDGEMENT, "billing") == Team.ROI


@pytest.mark.parametrize("language", list(Language))
def test_completion_letter_gives_fedex_tracking_and_the_receipt(language: Language) -> None:
    notice = sample_notice(
        NoticeKind.COMPLETION,
        language,
        carrier_tracking_number="794612345678",
        payments=[
            PaymentReceipt(amount_cents=4500, paid_on=date(2026, 3, 10), reference="CHK-1042")
        ],
    )
    text = text_of(render_notice(notice))
    assert "794612345678" in text
    assert "CHK-1042" in text
    assert "45.00" in text or "45,00" in text
    if language == Language.EN:
        assert "Payment received: $45.00 on March 10, 2026, reference CHK-1042." in text
        assert "FedEx tracking number: 794612345678" in text


def test_completion_letter_without_a_shipment_or_payment_says_neither() -> None:
    text = text_of(render_notice(sample_notice(NoticeKind.COMPLETION)))
    assert "FedEx tracking number" not in text and "Payment received" not in text
