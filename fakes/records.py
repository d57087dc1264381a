"""Synthetic patients' records as PDF files in the folder-source layout (no real person).

Demo and tests only: the demo seed writes a folder for each of its patients before their
requests run, tests write their test patients'. The engine itself never calls this: a patient
the record source does not hold is a release held for staff, not records made up.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

RECORD_TYPES = [
    ("visit_notes", "Clinic visit note"),
    ("lab_results", "Laboratory results"),
    ("discharge_summary", "Discharge summary"),
    ("imaging_report", "Radiology report"),
]
ANCHOR = date(2026, 1, 1)  # synthetic service dates fall in the three years before this


def record_pdf(patient: dict[str, Any], title: str, pages: int, served: date | None) -> bytes:
    """A synthetic document; every page names the patient (the check reads the index, people
    read the pages)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    who = f"{patient['first_name']} {patient['last_name']}  DOB {patient['date_of_birth']}"
    if patient.get("mrn"):
        who += f"  MRN {patient['mrn']}"
    for page in range(1, pages + 1):
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawString(54, 750, who)
        pdf.setFont("Helvetica", 10)
        pdf.drawString(54, 734, f"{title} - {served.isoformat() if served else 'undated'}")
        pdf.drawString(54, 718, f"Page {page} of {pages}")
        pdf.drawString(54, 690, "SYNTHETIC RECORD - generated for demonstration; no real person.")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def write_patient(
    root: Path, folder: str, patient: dict[str, Any], documents: list[dict[str, Any]]
) -> Path:
    """Write one patient's folder: PDFs (or given bytes) and index.json."""
    target = root / folder
    target.mkdir(parents=True, exist_ok=True)
    index: list[dict[str, Any]] = []
    for doc in documents:
        entry = {k: v for k, v in doc.items() if k != "content"}
        served = date.fromisoformat(doc["service_date"]) if doc.get("service_date") else None
        content = doc.get("content")
        if content is None:
            who = {**patient, **doc.get("patient", {})}
            content = record_pdf(who, doc.get("title", doc["record_type"]), doc["pages"], served)
        ext = ".pdf" if doc.get("content_type", "application/pdf") == "application/pdf" else ".dcm"
        entry["file"] = f"{doc['id']}{ext}"
        (target / entry["file"]).write_bytes(content)
        index.append(entry)
    # the index last and whole: a source reading the folder meanwhile sees all of it or none
    partial = target / "index.json.partial"
    partial.write_text(json.dumps({"patient": patient, "documents": index}))
    os.replace(partial, target / "index.json")
    return target


def synthetic_patient(root: Path, patient: dict[str, Any]) -> Path:
    """Write a synthetic patient's folder: four documents in the three years before ANCHOR and
    an imaging study (the same documents for the same patient; writing again changes nothing).

    `patient`: first_name, last_name, date_of_birth (ISO), optional mrn."""
    who = {
        "first_name": patient["first_name"],
        "last_name": patient["last_name"],
        "date_of_birth": str(patient["date_of_birth"]),
        "mrn": patient.get("mrn"),
    }
    seed = hashlib.sha256(
        f"{who['first_name']}|{who['last_name']}|{who['date_of_birth']}".lower().encode()
    ).hexdigest()
    folder = f"p-{seed[:16]}"
    if (root / folder / "index.json").exists():
        return root / folder  # written before: a worker may be reading it right now
    rng = random.Random(seed)
    documents: list[dict[str, Any]] = []
    for n, (record_type, title) in enumerate(RECORD_TYPES):
        served = ANCHOR - timedelta(days=rng.randint(1, 1000))
        documents.append(
            {
                "id": f"doc-{seed[:10]}-{n}",
                "record_type": record_type,
                "title": title,
                "service_date": served.isoformat(),
                "pages": rng.randint(1, 3),
            }
        )
    documents.append(
        {
            "id": f"img-{seed[:10]}",
            "record_type": "imaging_study",
            "title": "CT chest study",
            "service_date": (ANCHOR - timedelta(days=rng.randint(1, 1000))).isoformat(),
            "pages": 1,
            "content_type": "application/dicom",
            "content": b"\0" * 128 + b"DICM" + b"SYNTHETIC",
        }
    )
    return write_patient(root, folder, who, documents)
