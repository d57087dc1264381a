"""Synthetic requests (no real person) for tests and the demo."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def valid_authorization(**overrides: Any) -> dict[str, Any]:
    """A 164.508-complete authorization signed by the patient."""
    auth: dict[str, Any] = {
        "information_description": "Office notes and lab results, 2024-01-01 to 2025-06-30",
        "disclosing_party": "Mayo Clinic",
        "recipient": "Harbor Law Group LLP",
        "purpose": "Personal injury claim",
        "expiration_date": "2027-12-31",
        "signed": True,
        "signature_date": "2026-10-01",
        "signer_role": "patient",
        "statement_right_to_revoke": True,
        "statement_conditioning": True,
        "statement_redisclosure": True,
    }
    auth.update(overrides)
    return auth


def own_records(**overrides: Any) -> dict[str, Any]:
    """A patient asking for a copy of their own records, by secure email link."""
    data: dict[str, Any] = {
        "kind": "access_own",
        "site": "minnesota",
        "channel": "portal",
        "received_at": datetime(2026, 11, 2, 15, 0, tzinfo=UTC).isoformat(),
        "language": "en",
        "patient": {
            "first_name": "Avery",
            "middle_name": "Q",
            "last_name": "Testpatient",
            "date_of_birth": "1984-03-09",
            "mrn": "MRN-0000001",
        },
        "requester": {
            "first_name": "Avery",
            "last_name": "Testpatient",
            "relationship": "self",
            "contact": {
                "email": "avery.testpatient@example.org",
                "phone": "507-555-0142",
                "address": {
                    "line1": "100 Example Ave",
                    "city": "Rochester",
                    "state": "MN",
                    "postal_code": "55901",
                },
            },
        },
        "records": {
            "description": "All visit notes and lab results",
            "date_from": "2024-01-01",
            "date_to": "2025-06-30",
        },
        "delivery_method": "email_link",
    }
    data.update(overrides)
    return data


def third_party(**overrides: Any) -> dict[str, Any]:
    """A law firm asking on the patient's signed authorization, by US mail."""
    data = own_records(
        kind="third_party",
        requester={
            "organization": "Harbor Law Group LLP",
            "relationship": "attorney",
            "contact": {
                "email": "records@harborlaw.example",
                "address": {
                    "line1": "55 Main St Suite 400",
                    "city": "Minneapolis",
                    "state": "MN",
                    "postal_code": "55401",
                },
            },
        },
        delivery_method="us_mail",
        authorization=valid_authorization(),
    )
    data.update(overrides)
    return data


def imaging_fedex(**overrides: Any) -> dict[str, Any]:
    """A patient asking for imaging by FedEx ($45)."""
    data = own_records(kind="imaging", delivery_method="fedex")
    data["records"] = {"description": "MRI lumbar spine images", "record_types": ["imaging"]}
    data.update(overrides)
    return data


def received(days_before: float, now: datetime | None = None) -> str:
    """An ISO receipt time `days_before` days before now."""
    from datetime import timedelta

    return ((now or datetime.now(UTC)) - timedelta(days=days_before)).isoformat()


DOB = date(1984, 3, 9)
