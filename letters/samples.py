"""Synthetic sample notices of every kind (fictional people): for tests, the bench, previews."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.denial import DenialBasis
from domain.errors import FieldIssue
from domain.fees import FeeLine
from domain.kinds import adoption
from domain.notices import Notice, NoticeKind
from domain.types import DeliveryMethod, Language, Site

ISSUED = date(2026, 3, 12)

BASE: dict[str, Any] = {
    "site": Site.MINNESOTA,
    "tracking_number": "ROI-7K3QD-M2X9A",
    "issued_on": ISSUED,
    "recipient_name": "Ana Example",
    "recipient_address": ["123 Sample Ave Apt 4", "Rochester, MN 55901"],
    "patient_name": "Ana Example",
    "patient_date_of_birth": date(1980, 5, 17),
    "received_on": date(2026, 3, 2),
    "expected_date": date(2026, 3, 16),
}


def _issue(code: str) -> FieldIssue:
    return FieldIssue(field="authorization", code=code, message="(wording comes from the catalog)")


FIELDS: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.ACKNOWLEDGEMENT: {},
    NoticeKind.DEFICIENCY: {
        "deficiencies": [_issue("signature_missing"), _issue("expired"), _issue("purpose_missing")]
    },
    NoticeKind.FEE_QUOTE: {  # a law firm's 300 paper pages on the site's schedule, by FedEx
        "fee_lines": [
            FeeLine(code="third_party_search", description="Search", amount_cents=1000),
            FeeLine(
                code="third_party_pages",
                description="Copies, 300 pages",
                amount_cents=30000,
                quantity=300,
                unit_cents=100,
            ),
            FeeLine(code="fedex", description="FedEx", amount_cents=4500),
        ],
        "fee_total_cents": 35500,
        "fee_requester_type": "attorney",
        "delivery_method": DeliveryMethod.FEDEX,
    },
    NoticeKind.INVOICE: {
        "fee_lines": [
            FeeLine(code="third_party_pages", description="Copies, 12 pages", amount_cents=1200),
            FeeLine(code="fedex", description="FedEx", amount_cents=4500),
        ],
        "fee_total_cents": 5700,
    },
    NoticeKind.EXTENSION: {
        "original_due_date": date(2026, 4, 1),
        "new_due_date": date(2026, 4, 30),
        "extension_reason": "Records stored off site must be retrieved from the archive.",
    },
    NoticeKind.DENIAL: {
        "denial_basis": DenialBasis.ENDANGERMENT,
        "denial_explanation": "Reviewed by the treating physician.",
    },
    NoticeKind.COMPLETION: {
        "released_items": ["Office notes and lab results, 2025-01-01 to 2025-12-31"],
        "delivery_method": DeliveryMethod.US_MAIL,
    },
    NoticeKind.PACKING_SLIP: {
        "released_items": ["Imaging CD (encrypted), MRI 2025-11-04"],
        "delivery_method": DeliveryMethod.FEDEX,
    },
    NoticeKind.MAILING_LABEL: {"delivery_method": DeliveryMethod.FEDEX},
    NoticeKind.CD_INSERT: {"delivery_method": DeliveryMethod.CD_MAIL},
    NoticeKind.AUTHORIZATION_FORM: {},
    NoticeKind.CANCELLATION: {"cancellation_reason": "Withdrawn by phone."},
    NoticeKind.AMENDMENT_ACCEPTED: {
        "amendment_summary": "Allergy list corrected: no penicillin allergy.",
        "notified_names": ["Example Family Clinic"],
    },
    NoticeKind.AMENDMENT_DENIED: {
        "amendment_denial_basis": "accurate_and_complete",
        "denial_explanation": "",
    },
    NoticeKind.AMENDMENT_NOTIFICATION: {
        "recipient_name": "Example Family Clinic",
        "amendment_summary": "Allergy list corrected: no penicillin allergy.",
    },
    NoticeKind.REVOCATION_CONFIRMED: {
        "revoked_references": ["ROI-AAAAA-BBBBB"],
        "released_references": ["ROI-CCCCC-DDDDD"],
    },
    NoticeKind.RELEASE_STOPPED: {},
    NoticeKind.PROXY_GRANTED: {"proxy_name": "Sam Example", "access_expires_on": date(2030, 1, 1)},
    NoticeKind.PROXY_DENIED: {"denial_explanation": "The guardianship order was not attached."},
    NoticeKind.PROXY_ENDED: {"proxy_name": "Sam Example"},
    NoticeKind.BILLING_ANSWER: {"answer_text": "The balance was paid in full on 2026-02-01."},
    NoticeKind.DECEASED_RECORDED: {},
    NoticeKind.ADOPTION_ACCEPTED: {
        "document_name": adoption.ACCEPTED[adoption.AdoptionDocument.ADOPTION_DECREE]
    },
    NoticeKind.ADOPTION_REJECTED: {
        "rejection_reason": adoption.REJECTED[adoption.AdoptionDocument.BIRTH_CERTIFICATE],
        "accepted_documents": list(adoption.ACCEPTED.values()),
    },
    NoticeKind.ACCOUNTING_FEE_NOTICE: {
        "fee_lines": [FeeLine(code="accounting", description="Second", amount_cents=2500)],
        "fee_total_cents": 2500,
    },
    NoticeKind.ACCOUNTING_REPORT: {
        "period_start": date(2020, 3, 2),
        "period_end": date(2026, 3, 2),
        "accounting_entries": [
            {
                "date": "2024-06-10",
                "recipient": "Olmsted County Court",
                "address": "151 4th St SE, Rochester, MN",
                "description": "Emergency department record",
                "purpose": "Court order",
            }
        ],
    },
    NoticeKind.OUTSIDE_RECORDS_REDIRECT: {},
    NoticeKind.CUSTODIAN_CERTIFICATION: {"certified_pages": 42},
    NoticeKind.DENIAL_REVIEWED: {
        "denial_basis": DenialBasis.ENDANGERMENT,
        "review_decision": "uphold",
        "denial_explanation": "The reviewing physician agreed with the original decision.",
    },
}


def sample_notice(kind: NoticeKind, language: Language = Language.EN, **overrides: Any) -> Notice:
    """A complete, valid notice of the kind, in the language."""
    return Notice(kind=kind, language=language, **{**BASE, **FIELDS[kind], **overrides})
