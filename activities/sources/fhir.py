"""An HL7 FHIR R4 record source over HTTP (httpx), parsed with `fhir.resources` (R4B models,
which read R4 resources of these types unchanged).

Patient search by name and birth date, like every search, is `POST [base]/[type]/_search` with
a form body, so no name or date of birth is ever in a URL (proxies and servers log URLs).
Documents from DocumentReference (content from Binary or inline data), imaging from
ImagingStudy (a study summary document). Each document carries
the identity of the Patient its `subject` points at, so a document filed under another patient
is caught by the release rules. Security labels mark sensitive categories.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.patient import Patient

from activities.sources.base import RecordDocument, RecordQuery
from domain.release_safety import DocumentFacts, SensitiveCategory

#: HL7 v3 ActCode confidentiality/sensitivity codes -> the categories the rules know.
SECURITY_LABELS = {
    "PSYTHPN": SensitiveCategory.PSYCHOTHERAPY_NOTES,
    "ETH": SensitiveCategory.SUBSTANCE_USE,
    "SUD": SensitiveCategory.SUBSTANCE_USE,
    "42CFRPart2": SensitiveCategory.SUBSTANCE_USE,
    "HIV": SensitiveCategory.HIV,
    "GDIS": SensitiveCategory.GENETIC,
    "PSY": SensitiveCategory.MENTAL_HEALTH,
    "BH": SensitiveCategory.MENTAL_HEALTH,
    "MH": SensitiveCategory.MENTAL_HEALTH,
}
#: Search parameters that carry a patient's identity: only ever in a POST body, never a URL.
SEARCH_PHI = frozenset({"family", "given", "name", "birthdate", "identifier", "phone", "email"})
FORM = "application/x-www-form-urlencoded"
#: LOINC document types -> record types.
LOINC_TYPES: dict[str | None, str] = {
    "11506-3": "visit_notes",
    "34117-2": "visit_notes",
    "11502-2": "lab_results",
    "18842-5": "discharge_summary",
    "18748-4": "imaging_report",
    "11488-4": "consult_note",
}


class FhirSource:
    """Reads a FHIR R4 server."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/fhir+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=timeout,
            transport=transport,
        )

    def _get(self, path: str) -> Any:
        response = self._http.get(path)
        response.raise_for_status()
        return response.json()

    def _post_search(self, resource: str, params: list[tuple[str, str]]) -> Any:
        """`POST [base]/[type]/_search` with the parameters as a form body: a URL lands in
        proxy, server and client logs, so a name or birth date must never be in one."""
        response = self._http.post(
            f"{resource}/_search",
            content=urlencode(params),
            headers={"Content-Type": FORM},
        )
        response.raise_for_status()
        return response.json()

    def _search(self, resource: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Every entry of a search, following `next` links."""
        found: list[dict[str, Any]] = []
        bundle = Bundle.model_validate(self._post_search(resource, params))
        while True:
            found.extend(
                e.resource.model_dump(mode="json") for e in bundle.entry or [] if e.resource
            )
            following = next(
                (link.url for link in bundle.link or [] if link.relation == "next"), None
            )
            if not following:
                return found
            bundle = Bundle.model_validate(self._page(resource, str(following)))

    def _page(self, resource: str, url: str) -> Any:
        """The next page. Servers usually link it by an opaque id (a GET is then safe); one
        that echoes the search into the link gets those parameters back as a form body."""
        query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
        if any(key.split(":")[0] in SEARCH_PHI for key, _ in query):
            return self._post_search(resource, query)
        return self._get(url)

    def find(self, query: RecordQuery) -> list[RecordDocument]:
        patients = [
            Patient.model_validate(p)
            for p in self._search(
                "Patient",
                [
                    ("family", query.last_name),
                    ("given", query.first_name),
                    ("birthdate", query.date_of_birth.isoformat()),
                ],
            )
        ]
        documents: list[RecordDocument] = []
        known: dict[str, Patient] = {f"Patient/{p.id}": p for p in patients}
        for patient in patients:
            dates: list[tuple[str, str]] = []
            if query.date_from:
                dates.append(("date", f"ge{query.date_from.isoformat()}"))
            if query.date_to:
                dates.append(("date", f"le{query.date_to.isoformat()}"))
            for raw in self._search("DocumentReference", [("patient", str(patient.id)), *dates]):
                ref = DocumentReference.model_validate(raw)
                subject = self._subject(ref.subject.reference if ref.subject else None, known)
                documents.append(self._document(ref, subject or patient))
            if query.imaging:
                for raw in self._search("ImagingStudy", [("patient", str(patient.id))]):
                    study = ImagingStudy.model_validate(raw)
                    subject = self._subject(
                        study.subject.reference if study.subject else None, known
                    )
                    documents.append(_study(study, subject or patient))
        return documents

    def _subject(self, reference: str | None, known: dict[str, Patient]) -> Patient | None:
        if not reference:
            return None
        if reference not in known:
            known[reference] = Patient.model_validate(self._get(reference))
        return known[reference]

    def _document(self, ref: DocumentReference, patient: Patient) -> RecordDocument:
        attachment = ref.content[0].attachment
        content_type = attachment.contentType or "application/pdf"
        if attachment.data:
            content = _bytes(attachment.data)
        else:
            binary = Binary.model_validate(self._get(str(attachment.url)))
            content = _bytes(binary.data)
            content_type = binary.contentType or content_type
        coding = ref.type.coding[0] if ref.type and ref.type.coding else None
        record_type = LOINC_TYPES.get(coding.code if coding else "", "") or _slug(
            (ref.type.text if ref.type else None) or (coding.display if coding else None) or "other"
        )
        labels = [c.code for label in ref.securityLabel or [] for c in label.coding or []]
        facts = _facts(
            str(ref.id),
            patient,
            record_type,
            _day(ref.date),
            ref.description or attachment.title or record_type,
            [str(code) for code in labels if code],
        )
        resource = ref.model_dump(mode="json", exclude_none=True)
        inline = resource["content"][0]["attachment"]
        inline.pop("url", None)  # a server address the patient cannot reach: the data instead
        inline["data"] = base64.b64encode(content).decode()
        inline["contentType"] = content_type
        return RecordDocument(
            facts=facts, content=content, content_type=content_type, fhir_resource=resource
        )


def _study(study: ImagingStudy, patient: Patient) -> RecordDocument:
    """An imaging study as a document: its summary (images travel by the imaging system)."""
    lines = [
        f"Imaging study {study.identifier[0].value if study.identifier else study.id}",
        f"Started: {study.started.isoformat() if study.started else 'unknown'}",
        f"Series: {study.numberOfSeries or 0}, instances: {study.numberOfInstances or 0}",
        f"Description: {study.description or ''}",
    ]
    labels = [c.code for c in (study.meta.security or [])] if study.meta else []
    facts = _facts(
        f"study-{study.id}",
        patient,
        "imaging_study",
        _day(study.started),
        study.description or "Imaging study",
        [str(code) for code in labels if code],
    )
    return RecordDocument(
        facts=facts,
        content="\n".join(lines).encode(),
        content_type="text/plain",
        fhir_resource=study.model_dump(mode="json", exclude_none=True),
    )


def _facts(
    document_id: str,
    patient: Patient,
    record_type: str,
    served: date | None,
    title: str,
    labels: list[str],
) -> DocumentFacts:
    name = patient.name[0] if patient.name else None
    mrn = next((i.value for i in patient.identifier or [] if i.type and i.type.text == "MRN"), None)
    return DocumentFacts(
        document_id=document_id,
        # fhir.resources types list items as optional; a FHIR list holds no nulls
        patient_first_name=cast(str, (name.given or [""])[0]) if name else "",
        patient_last_name=(name.family or "") if name else "",
        patient_date_of_birth=patient.birthDate or date.min,
        patient_mrn=mrn,
        record_type=record_type,
        service_date=served,
        title=title,
        categories=sorted({SECURITY_LABELS[c] for c in labels if c in SECURITY_LABELS}),
    )


def _day(value: date | datetime | None) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _bytes(value: bytes | str | None) -> bytes:
    """base64Binary content (the models decode it already; plain strings are decoded here)."""
    if value is None:
        return b""
    return value if isinstance(value, bytes) else base64.b64decode(value)


def _slug(text: str) -> str:
    return "_".join(text.lower().split())
