"""The FHIR R4 record source against a small FHIR server on loopback (real HTTP, real
parsing), what the release rules make of what it returns, and that no patient's name or birth
date ever travels in a URL (the fake refuses a GET patient search)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from activities.sources.base import RecordQuery, query_for
from activities.sources.fhir import FhirSource
from domain.release_safety import OutgoingFacts, SensitiveCategory, decide_release
from domain.request import RecordRequestSubmission
from fakes.fhir_server import FhirStore, serve
from fakes.records import record_pdf
from tests import factories

AVERY = {"first_name": "Avery", "last_name": "Fulfiltest", "date_of_birth": "1984-03-09"}


@pytest.fixture(scope="module")
def store() -> FhirStore:
    store = FhirStore()
    store.patient("p1", "Avery", "Fulfiltest", "1984-03-09", mrn="MRN-0000001")
    for did, loinc, when, labels in [
        ("visit-2024", "11506-3", "2024-05-02", None),
        ("lab-2025", "11502-2", "2025-02-11", ["HIV"]),
        ("discharge-2024", "18842-5", "2024-09-30", None),
        ("old-2019", "11506-3", "2019-07-01", None),
    ]:
        pdf = record_pdf({**AVERY, "mrn": "MRN-0000001"}, did, 1, date.fromisoformat(when))
        store.document(did, "p1", loinc, when, pdf, title=did, labels=labels)
    store.study("ct-2024", "p1", "2024-08-20", "CT chest")
    # another person with the same name and birth date: a different MRN
    store.patient("p2", "Avery", "Fulfiltest", "1984-03-09", mrn="MRN-0000999")
    store.document("other-2024", "p2", "11506-3", "2024-06-01", b"%PDF-1.4 other", title="x")
    return store


@pytest.fixture(scope="module")
def fhir(store: FhirStore) -> Iterator[str]:
    server = serve(store)
    yield server.url
    server.stop()


def test_documents_come_with_types_dates_labels_and_their_patient(fhir: str) -> None:
    source = FhirSource(fhir)
    query = RecordQuery(
        first_name="Avery",
        last_name="Fulfiltest",
        date_of_birth=date(1984, 3, 9),
        date_from=date(2024, 1, 1),
        date_to=date(2025, 6, 30),
    )
    docs = {d.facts.document_id: d for d in source.find(query)}
    # server-side date filter, every page followed; both same-named patients are searched
    assert set(docs) == {"visit-2024", "lab-2025", "discharge-2024", "other-2024"}
    assert docs["visit-2024"].facts.record_type == "visit_notes"
    assert docs["discharge-2024"].facts.record_type == "discharge_summary"
    assert docs["lab-2025"].facts.categories == [SensitiveCategory.HIV]
    assert docs["visit-2024"].content.startswith(b"%PDF")  # from Binary
    assert docs["visit-2024"].facts.patient_mrn == "MRN-0000001"
    assert docs["other-2024"].facts.patient_mrn == "MRN-0000999"


def test_imaging_studies_only_for_imaging_requests(fhir: str) -> None:
    query = RecordQuery(first_name="Avery", last_name="Fulfiltest", date_of_birth=date(1984, 3, 9))
    plain = {d.facts.document_id for d in FhirSource(fhir).find(query)}
    imaging = {
        d.facts.record_type
        for d in FhirSource(fhir).find(query.model_copy(update={"imaging": True}))
    }
    assert "study-ct-2024" not in plain and "imaging_study" in imaging


def test_a_same_named_patients_document_stops_the_release(fhir: str) -> None:
    sub = RecordRequestSubmission.model_validate(factories.own_records())
    docs = FhirSource(fhir).find(query_for(sub))
    out = OutgoingFacts(
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        email=sub.delivery_contact().email,
    )
    decision = decide_release(sub, [d.facts for d in docs], out, date(2026, 11, 25))
    assert [i.code for i in decision.blocking] == ["patient_mismatch", "sensitive_review_required"]
    assert decision.blocking[0].document_id == "other-2024"


def _identity_in(urls: list[str]) -> list[str]:
    """The request lines that carry the synthetic patient's name, birth date or search dates."""
    needles = ("avery", "fulfiltest", "1984-03-09", "2024-01-01", "2025-06-30")
    return [u for u in urls if any(n in u.lower() for n in needles)]


def test_searches_are_posted_forms_and_no_url_names_the_patient(
    fhir: str, store: FhirStore
) -> None:
    before = len(store.requests)
    query = RecordQuery(
        first_name="Avery",
        last_name="Fulfiltest",
        date_of_birth=date(1984, 3, 9),
        date_from=date(2024, 1, 1),
        date_to=date(2025, 6, 30),
        imaging=True,
    )
    assert FhirSource(fhir).find(query)
    sent = store.requests[before:]
    assert sent[0] == "POST /Patient/_search?"  # the name and birth date went in the body
    assert "POST /DocumentReference/_search?" in sent and "POST /ImagingStudy/_search?" in sent
    assert any(u.startswith("GET /?_getpages=") for u in sent)  # paged by an opaque id
    assert _identity_in(sent) == []


def test_the_fake_refuses_a_patient_search_in_a_url(fhir: str) -> None:
    """What a client that regressed to GET would meet (so the tests above would fail)."""
    named = httpx.get(f"{fhir}/Patient", params={"family": "Fulfiltest", "birthdate": "1984-03-09"})
    assert named.status_code == 400
    assert httpx.get(f"{fhir}/Patient", params={"given:exact": "Avery"}).status_code == 400
    by_id = httpx.get(f"{fhir}/DocumentReference", params={"patient": "p1"})  # no identity
    assert by_id.status_code == 200 and by_id.json()["total"] == 4
    form = {"family": "Fulfiltest", "birthdate": "1984-03-09"}
    posted = httpx.post(f"{fhir}/Patient/_search", data=form)
    assert posted.status_code == 200 and posted.json()["total"] == 2


def test_page_links_that_repeat_the_search_are_posted_too() -> None:
    """A server that echoes the search into its `next` links (instead of an opaque page id)
    gets those parameters back in a form body; a GET of such a link would be refused."""
    store = FhirStore(echo_paging=True)
    for n in (1, 2, 3):  # three same-named records: two pages of patients
        store.patient(f"p{n}", "Avery", "Fulfiltest", "1984-03-09", mrn=f"MRN-000000{n}")
        pdf = record_pdf({**AVERY, "mrn": f"MRN-000000{n}"}, f"d{n}", 1, date(2024, 5, 2))
        store.document(f"d{n}", f"p{n}", "11506-3", "2024-05-02", pdf, title=f"d{n}")
    server = serve(store)
    try:
        query = RecordQuery(
            first_name="Avery", last_name="Fulfiltest", date_of_birth=date(1984, 3, 9)
        )
        found = {d.facts.document_id for d in FhirSource(server.url).find(query)}
    finally:
        server.stop()
    assert found == {"d1", "d2", "d3"}
    assert store.requests.count("POST /Patient/_search?") == 2  # the first page and the next
    assert _identity_in(store.requests) == []
