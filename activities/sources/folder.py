"""A local folder of records: one sub-folder per patient with an index.json (demo and tests).

    records/<folder>/index.json  {"patient": {...}, "documents": [{"id", "file", "record_type",
                                  "service_date", "title", "categories", "content_type",
                                  "patient" (optional: identity recorded on this document)}]}

The source only reads: a patient with no folder has no records here, and the release is held
for staff ("no_records_found"). The demo and the tests write their synthetic patients' folders
beforehand (fakes/records.py).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from activities.sources.base import RecordDocument, RecordQuery
from domain.release_safety import DocumentFacts, _norm


class FolderSource:
    """Records from files on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find(self, query: RecordQuery) -> list[RecordDocument]:
        """Documents of every folder whose patient matches the query's name and birth date
        (none when no folder does)."""
        found: list[RecordDocument] = []
        for folder in self._folders_for(query):
            index = json.loads((folder / "index.json").read_text())
            for entry in index["documents"]:
                doc = _document(folder, index["patient"], entry)
                if query.imaging or doc.facts.record_type != "imaging_study":
                    found.append(doc)
        return found

    def _folders_for(self, query: RecordQuery) -> list[Path]:
        if not self.root.exists():
            return []
        matches = []
        for index_file in sorted(self.root.glob("*/index.json")):
            patient = json.loads(index_file.read_text())["patient"]
            if (
                patient["date_of_birth"] == query.date_of_birth.isoformat()
                and _norm(patient["last_name"]) == _norm(query.last_name)
                and _norm(patient["first_name"]) == _norm(query.first_name)
            ):
                matches.append(index_file.parent)
        return matches


def _document(folder: Path, patient: dict[str, Any], entry: dict[str, Any]) -> RecordDocument:
    who = {**patient, **entry.get("patient", {})}
    served = entry.get("service_date")
    facts = DocumentFacts(
        document_id=entry["id"],
        patient_first_name=who["first_name"],
        patient_last_name=who["last_name"],
        patient_date_of_birth=date.fromisoformat(who["date_of_birth"]),
        patient_mrn=who.get("mrn"),
        record_type=entry["record_type"],
        service_date=date.fromisoformat(served) if served else None,
        title=entry.get("title", ""),
        categories=entry.get("categories", []),
        pages=entry.get("pages", 1),
    )
    return RecordDocument(
        facts=facts,
        content=(folder / entry["file"]).read_bytes(),
        content_type=entry.get("content_type", "application/pdf"),
    )
