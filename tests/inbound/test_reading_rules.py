"""The pure reading rules (domain.documents) on text as Tesseract gives it: each field with the
text it was read from, each 164.508 element found or not, Spanish dates day first, and the
confirmed form becoming a submission intake accepts."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.documents import extract, fold, prefill, submission_from_form
from domain.request import parse_submission

ENGLISH = """Authorization to Release Protected Health Information to a Third Party
1. Patient
Patient's full name Avery Q Testwell
Date of birth 03/14/1984
Medical record number (if known) 12-345-678
2. Who may release the information
Mayo Clinic, Minnesota (Release of Information). Other:
3. Who will receive the information
Name of person or organization Northfield Law Group
Address, fax or email 200 Cedar Ave, Rochester MN 55902
4. What information
X All records for the dates of service below
O Only these records (for example, office notes, test results, imaging, discharge summary):
Dates of service, from / to 01/02/2024 - 06/30/2024
5. Purpose
O At the request of the individual
X Other purpose: legal claim
6. When this authorization ends
Expiration date or event 12/31/2027
\f7. Please read
» You may revoke this authorization at any time by writing to Mayo Clinic
» Mayo Clinic will not condition your treatment, payment, enrollment
» Information released under this authorization may be shared again by the recipient and
8. Signature
Signature of patient or representative Avery Testwell
Date signed 11/20/2026
"""


def test_every_field_is_read_with_the_text_it_came_from() -> None:
    reading = extract(ENGLISH)
    values = {name: r.value for name, r in reading.fields.items()}
    assert values["kind"] == "third_party"
    assert values["patient.first_name"] == "Avery"
    assert values["patient.middle_name"] == "Q"
    assert values["patient.last_name"] == "Testwell"
    assert values["patient.date_of_birth"] == "1984-03-14"
    assert values["patient.mrn"] == "12-345-678"
    assert values["requester.name"] == "Northfield Law Group"
    assert values["delivery_method"] == "us_mail"
    assert values["records.date_from"] == "2024-01-02"
    assert values["records.date_to"] == "2024-06-30"
    assert values["authorization.purpose"] == "legal claim"
    assert values["authorization.expiration"] == "2027-12-31"
    assert values["authorization.signature_date"] == "2026-11-20"
    dob = reading.fields["patient.date_of_birth"]
    assert dob.text == "Date of birth 03/14/1984"
    assert ENGLISH[dob.start : dob.end] == "03/14/1984"  # the span is in the OCR text
    assert all(e.present for e in reading.elements), [e.element for e in reading.elements]
    revoke = next(e for e in reading.elements if e.element == "statement_right_to_revoke")
    assert revoke.reading is not None and "revoke this authorization" in revoke.reading.text


def test_a_lost_second_page_leaves_the_statements_and_signature_missing() -> None:
    first_page = ENGLISH.split("\f")[0]
    reading = extract(first_page)
    missing = {e.element for e in reading.elements if not e.present}
    assert missing == {
        "signature",
        "signature_date",
        "statement_right_to_revoke",
        "statement_conditioning",
        "statement_redisclosure",
    }


def test_spanish_dates_are_day_first_and_accents_do_not_matter() -> None:
    text = (
        "Autorización para Divulgar Información Médica Protegida a un Tercero\n"
        "Nombre completo del paciente Rosa Fictora\n"
        "Fecha de nacimiento 05/03/1990\n"
        "Direccion, fax o correo electronico records@clinica.example\n"
        "Fecha o evento de vencimiento fin del caso legal\n"
        "Puede revocar esta autorizacion en cualquier momento\n"
    )
    reading = extract(text)
    assert reading.language.value == "es" and reading.kind is not None
    assert reading.value("patient.date_of_birth") == "1990-03-05"
    assert reading.value("delivery_method") == "email_link"
    assert reading.value("authorization.expiration") == "fin del caso legal"
    assert len(fold("Autorización")) == len("Autorización")


def test_the_confirmed_form_is_a_submission_intake_accepts() -> None:
    form = prefill(extract(ENGLISH))
    assert form["requester.organization"] == "Northfield Law Group"
    assert form["requester.relationship"] == "attorney"
    assert form["requester.postal_code"] == "55902"
    assert form["authorization.signed"] == "on"
    now = datetime(2026, 12, 1, 15, tzinfo=UTC)
    data = submission_from_form(
        form, site="minnesota", channel="fax", received_at="2026-11-30T14:00:00+00:00"
    )
    assert data["received_at"] == "2026-11-30T14:00:00+00:00"
    assert data["authorization"]["statement_redisclosure"] is True
    sub, errors = parse_submission(data, now)
    assert errors == [] and sub is not None
    assert sub.patient.last_name == "Testwell" and sub.delivery_method.value == "us_mail"


def test_nothing_is_guessed_from_text_that_says_nothing() -> None:
    reading = extract("FAX COVER SHEET\nPages: 3\n")
    assert reading.kind is None and reading.fields == {}
    assert not any(e.present for e in reading.elements)
