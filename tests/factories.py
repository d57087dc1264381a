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
        "expiration_date": "2040-12-31",
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


# ---- later request kinds ------------------------------------------------------------------


def _patient_and_requester(**overrides: Any) -> dict[str, Any]:
    base = own_records()
    data = {
        "site": "minnesota",
        "channel": "portal",
        "received_at": base["received_at"],
        "language": "en",
        "patient": base["patient"],
        "requester": base["requester"],
    }
    data.update(overrides)
    return data


def amendment(**overrides: Any) -> dict[str, Any]:
    data = _patient_and_requester(
        kind="amendment",
        record_description="Allergy list, visit of 2025-03-04",
        date_of_service="2025-03-04",
        requested_change="Remove the penicillin allergy; I have never been allergic to penicillin.",
        reason="The allergy was entered for a different patient.",
        notify=[
            {
                "name": "Dr. Example Pharmacy",
                "address_lines": ["1 Pharmacy Way", "Rochester, MN 55902"],
            }
        ],
    )
    data.update(overrides)
    return data


def accounting(**overrides: Any) -> dict[str, Any]:
    data = _patient_and_requester(kind="accounting")
    data.update(overrides)
    return data


def billing(**overrides: Any) -> dict[str, Any]:
    data = _patient_and_requester(kind="billing", question="Itemized bill for my March 2025 visit")
    data.update(overrides)
    return data


def revocation(tracking_numbers: list[str], **overrides: Any) -> dict[str, Any]:
    data = _patient_and_requester(kind="revocation", authorizations=tracking_numbers, signed=True)
    data.update(overrides)
    return data


def proxy_for_minor(**overrides: Any) -> dict[str, Any]:
    data = _patient_and_requester(
        kind="proxy_access",
        basis="parent_of_minor",
        documents=[{"kind": "birth certificate"}],
        patient={"first_name": "Kai", "last_name": "Testchild", "date_of_birth": "2015-06-01"},
    )
    data["requester"] = {**data["requester"], "relationship": "parent"}
    data.update(overrides)
    return data


def deceased_notice(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "deceased_notice",
        "site": "minnesota",
        "channel": "email",
        "received_at": own_records()["received_at"],
        "patient": {
            "first_name": "Avery",
            "middle_name": "Q",
            "last_name": "Testpatient",
            "date_of_birth": "1984-03-09",
            "date_of_death": "2026-10-20",
        },
        "reporter": {
            "first_name": "Jordan",
            "last_name": "Testpatient",
            "relationship": "spouse",
            "phone": "507-555-0199",
        },
    }
    data.update(overrides)
    return data


def adoption_notice(document_type: str = "adoption_decree", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "adoption_notice",
        "site": "florida",
        "channel": "mail",
        "received_at": own_records()["received_at"],
        "patient": {"first_name": "Rowan", "last_name": "Testchild", "date_of_birth": "2021-02-14"},
        "parents": [
            {
                "first_name": "Casey",
                "last_name": "Adoptive",
                "contact": {
                    "email": "casey.adoptive@example.org",
                    "address": {
                        "line1": "9 Example Ln",
                        "city": "Jacksonville",
                        "state": "FL",
                        "postal_code": "32224",
                    },
                },
            }
        ],
        "document_type": document_type,
        "pages_received": 4,
    }
    data.update(overrides)
    return data


#: A provider asking for records for treatment (continuity of care).
PROVIDER = {
    "organization": "Lakeside Family Clinic",
    "relationship": "provider",
    "contact": {
        "email": "records@lakeside.example",
        "address": {
            "line1": "12 Clinic Rd",
            "city": "Madison",
            "state": "WI",
            "postal_code": "53703",
        },
    },
}
#: A court document (a subpoena, or an order when signed by a judge).
COURT = {
    "court": "Hennepin County District Court",
    "case_number": "27-CV-26-1234",
    "issued_on": "2026-10-15",
}
