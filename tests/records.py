"""Test patients' records in the folder record source (synthetic, written by fakes/records.py).

The record source holds only what a test wrote to it, as a hospital's holds only what it has:
a request for a patient with no folder is held for staff (`no_records_found`), never filled
with made-up records. The harness writes the factories' patient; a test that releases records
for a patient of its own writes them with `give_records`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fakes.records import write_patient
from tests import factories

#: Every test patient's documents: inside the factories' requested dates (2024-01-01 to
#: 2025-06-30), and imaging for imaging requests.
DOCUMENTS: list[dict[str, Any]] = [
    {
        "id": "visit-2024",
        "record_type": "visit_notes",
        "title": "Clinic visit note",
        "service_date": "2024-05-02",
        "pages": 2,
    },
    {
        "id": "lab-2025",
        "record_type": "lab_results",
        "title": "Lipid panel",
        "service_date": "2025-02-11",
        "pages": 1,
    },
    {
        "id": "report-2024",
        "record_type": "imaging_report",
        "title": "MRI lumbar spine report",
        "service_date": "2024-08-20",
        "pages": 1,
    },
    {
        "id": "study-2024",
        "record_type": "imaging_study",
        "title": "MRI lumbar spine",
        "service_date": "2024-08-20",
        "content_type": "application/dicom",
        "content": b"\0" * 128 + b"DICMsynthetic",
    },
]


def patient_of(request: dict[str, Any]) -> dict[str, Any]:
    """The identity a record system files a request's patient under."""
    patient = request["patient"]
    who = {k: patient[k] for k in ("first_name", "last_name", "date_of_birth")}
    if patient.get("mrn"):
        who["mrn"] = patient["mrn"]
    return who


def give_records(
    root: Path, patient: dict[str, Any], documents: list[dict[str, Any]] | None = None
) -> Path:
    """Write one patient's folder (the same folder for the same patient: written again, it is
    replaced, never doubled)."""
    identity = f"{patient['first_name']}|{patient['last_name']}|{patient['date_of_birth']}"
    folder = "p-" + hashlib.sha256(identity.lower().encode()).hexdigest()[:16]
    return write_patient(root, folder, patient, DOCUMENTS if documents is None else documents)


def write_test_patients(root: Path) -> Path:
    """The record folder of a test run: the factories' patient with the usual documents."""
    give_records(root, patient_of(factories.own_records()))
    return root
