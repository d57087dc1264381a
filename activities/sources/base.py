"""The record-source interface: find one patient's documents for a request.

A source returns what it holds for the patient (optionally narrowed by date); the release rules
in `domain.release_safety` decide which of them may leave. Documents carry the identity the
source recorded on them, so a document filed under the wrong patient is caught before release.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel

from domain.release_safety import DocumentFacts
from domain.request import RecordRequestSubmission
from domain.types import RequestKind


class RecordQuery(BaseModel):
    """Whose records, over which dates (PHI: never logged)."""

    first_name: str
    last_name: str
    date_of_birth: date
    mrn: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    imaging: bool = False  # also (or only) imaging studies


class RecordDocument(BaseModel):
    """One document with its facts and content."""

    facts: DocumentFacts
    content: bytes
    content_type: str = "application/pdf"
    #: the FHIR resource this document came from, its attachment inlined (FHIR source only):
    #: what a FHIR Bundle copy carries (164.524(c)(2))
    fhir_resource: dict[str, Any] | None = None

    @property
    def filename(self) -> str:
        """A file name inside a package (document id, never PHI)."""
        ext = {"application/pdf": ".pdf", "application/dicom": ".dcm", "text/plain": ".txt"}.get(
            self.content_type, ""
        )
        return f"{self.facts.document_id}{ext or '.bin'}"


class RecordSource(Protocol):
    """Anything that can find a patient's documents."""

    def find(self, query: RecordQuery) -> list[RecordDocument]:
        """Every document the source holds for the patient in the query's dates."""
        ...


def query_for(sub: RecordRequestSubmission) -> RecordQuery:
    """The query a request implies."""
    return RecordQuery(
        first_name=sub.patient.first_name,
        last_name=sub.patient.last_name,
        date_of_birth=sub.patient.date_of_birth,
        mrn=sub.patient.mrn,
        date_from=sub.records.date_from,
        date_to=sub.records.date_to,
        imaging=sub.kind == RequestKind.IMAGING,
    )
