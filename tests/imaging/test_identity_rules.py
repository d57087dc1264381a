"""The pure identity rules for images (domain/imaging.py): names, IDs, birth dates, counts."""

from __future__ import annotations

from datetime import date

import pytest

from domain.imaging import InstanceHeader, birth_date_of, check_instances, name_matches
from domain.request import Patient

PATIENT = Patient(
    first_name="Avery", last_name="Testpatient", date_of_birth=date(1984, 3, 14), mrn="IMG-1001"
)


def header(n: int = 1, *, series: str = "s1", study: str = "st1", **values: str) -> InstanceHeader:
    base = {"patient_name": "TESTPATIENT^AVERY", "patient_id": "IMG-1001", "birth_date": "19840314"}
    return InstanceHeader(
        study_uid=study, series_uid=series, instance_uid=f"i{n}", **{**base, **values}
    )


@pytest.mark.parametrize(
    "name",
    [
        "TESTPATIENT^AVERY",
        "Testpatient^Avery^^^",
        "TÉSTPATIENT^avery",
        "TESTPATIENT^AVERY J",  # middle initial in the given name
        "TESTPATIENT^AVERY^JANE",  # middle name in its own component
        "TESTPATIENT^AVERY=テスト^アベリー",  # ideographic group ignored
    ],
)
def test_names_that_are_the_patient(name: str) -> None:
    assert name_matches(PATIENT, name)


@pytest.mark.parametrize(
    "name", ["TESTOTHER^AVERY", "TESTPATIENT^AVERYANNE", "TESTPATIENT^JORDAN", "AVERY TESTPATIENT"]
)
def test_names_that_are_not(name: str) -> None:
    assert not name_matches(PATIENT, name)


def test_birth_dates() -> None:
    assert birth_date_of("19840314") == date(1984, 3, 14)
    assert birth_date_of("1984.03.14") == date(1984, 3, 14)
    assert birth_date_of("") is None
    assert birth_date_of("19841314") is None


def test_a_clean_release_is_counted() -> None:
    headers = [header(1), header(2), header(3, series="s2"), header(4, study="st2", series="s3")]
    check = check_instances(PATIENT, headers)
    assert check.clean and check.issues() == []
    assert (check.counts.studies, check.counts.series, check.counts.instances) == (2, 3, 4)


def test_the_mrn_is_compared_without_punctuation_or_case() -> None:
    assert check_instances(PATIENT, [header(patient_id="img1001")]).clean


def test_each_attribute_is_checked_and_reported_by_code() -> None:
    check = check_instances(
        PATIENT,
        [
            header(1),
            header(2, patient_name="TESTOTHER^JORDAN"),
            header(3, patient_id="IMG-2002"),
            header(4, birth_date="19900707"),
            header(5, patient_name="", patient_id="", birth_date=""),
        ],
    )
    assert {(m.instance_uid, m.code) for m in check.mismatches} == {
        ("i2", "patient_name_mismatch"),
        ("i3", "patient_id_mismatch"),
        ("i4", "birth_date_mismatch"),
        ("i5", "patient_name_missing"),
        ("i5", "patient_id_missing"),
        ("i5", "birth_date_missing"),
    }
    issues = {i.code: i for i in check.issues()}
    assert issues["imaging_patient_id_mismatch"].document_id == "st1"
    assert "1 image " in issues["imaging_patient_id_mismatch"].message


def test_issues_group_a_study_and_count_its_images() -> None:
    check = check_instances(PATIENT, [header(n, birth_date="19900707") for n in range(3)])
    (issue,) = check.issues()
    assert issue.code == "imaging_birth_date_mismatch"
    assert issue.message.startswith("3 images ")


def test_without_an_mrn_the_patient_id_must_be_the_same_on_every_image() -> None:
    no_mrn = PATIENT.model_copy(update={"mrn": None})
    headers = [header(1), header(2), header(3, patient_id="IMG-2002")]
    check = check_instances(no_mrn, headers)
    assert [(m.instance_uid, m.code) for m in check.mismatches] == [
        ("i3", "patient_id_inconsistent")
    ]
