"""The DICOMweb imaging source against a real Orthanc: QIDO-RS finds, WADO-RS retrieves."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import ExplicitVRLittleEndian

from activities.sources.dicomweb import DicomWebSource, ImagingSourceError, headers_of_files
from domain.imaging import check_instances
from tests.imaging.conftest import AVERY, JORDAN, PASSWORD, Archive, request_patient


def test_qido_finds_only_the_patients_studies(archive: Archive) -> None:
    found = archive.source.find_studies(AVERY.mrn)
    expected = [s.study_uid for s in archive.avery] + [archive.mixed.study_uid]
    assert sorted(s.study_uid for s in found) == sorted(expected)
    assert [s.study_date for s in found] == sorted(s.study_date for s in found)  # oldest first
    jordans = {s.study_uid for s in archive.jordan}
    assert not jordans & {s.study_uid for s in found}


def test_qido_respects_the_date_range(archive: Archive) -> None:
    ct, cr, mr = archive.avery
    in_2024 = archive.source.find_studies(AVERY.mrn, date(2024, 1, 1), date(2024, 12, 31))
    assert [s.study_uid for s in in_2024] == [cr.study_uid, archive.mixed.study_uid]
    since = archive.source.find_studies(AVERY.mrn, date(2024, 7, 1), None)
    assert [s.study_uid for s in since] == [mr.study_uid]
    until = archive.source.find_studies(AVERY.mrn, None, date(2023, 12, 31))
    assert [s.study_uid for s in until] == [ct.study_uid]
    on_the_day = archive.source.find_studies(AVERY.mrn, cr.study_date, cr.study_date)
    assert [s.study_uid for s in on_the_day] == [cr.study_uid]


def test_a_study_summary_counts_series_and_instances(archive: Archive) -> None:
    ct = archive.avery[0]
    (summary,) = [s for s in archive.source.find_studies(AVERY.mrn) if s.study_uid == ct.study_uid]
    assert summary.study_date == ct.study_date
    assert summary.modalities == ["CT"]
    assert summary.description == ct.description
    assert (summary.series_count, summary.instance_count) == (1, len(ct.files))


@pytest.mark.parametrize("patient_id", ["", "  ", "IMG*", "IMG-100?", "A\\B"])
def test_a_key_that_would_match_other_patients_is_refused(
    archive: Archive, patient_id: str
) -> None:
    with pytest.raises(ValueError, match="wildcard"):
        archive.source.find_studies(patient_id)


def test_a_failure_names_the_status_never_the_query(archive: Archive) -> None:
    wrong = DicomWebSource(archive.server.dicomweb_url, user="roi", password="not-it")
    with pytest.raises(ImagingSourceError) as raised:
        wrong.find_studies(AVERY.mrn)
    assert "HTTP 401" in str(raised.value)
    assert AVERY.mrn not in str(raised.value)
    assert PASSWORD not in repr(wrong.__dict__)  # the source keeps no plain password field


def test_wado_retrieve_writes_every_instance(archive: Archive, tmp_path: Path) -> None:
    ct = archive.avery[0]
    files = archive.source.retrieve_study(ct.study_uid, tmp_path / "ct")
    assert len(files) == len(ct.files) == 20
    assert all(path.stat().st_size > 64 * 64 * 2 for path in files)
    originals = {dcmread(p).SOPInstanceUID: dcmread(p).PixelData for p in ct.files}
    for path in files:
        ds = dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian  # what PDI discs hold
        assert ds.PixelData == originals[ds.SOPInstanceUID]
    assert {dcmread(p).SOPInstanceUID for p in files} == set(originals)


def test_a_clean_study_passes_the_identity_check(archive: Archive, tmp_path: Path) -> None:
    patient = request_patient(AVERY)
    for study in archive.avery:
        before = check_instances(patient, archive.source.instance_headers(study.study_uid))
        assert before.clean
        assert before.counts.instances == len(study.files)
        files = archive.source.retrieve_study(study.study_uid, tmp_path / study.modality)
        on_disk = check_instances(patient, headers_of_files(files))
        assert on_disk.clean and on_disk.counts == before.counts


def test_an_instance_of_another_patient_in_a_study_is_caught(
    archive: Archive, tmp_path: Path
) -> None:
    """Orthanc files the stray under Jordan's Patient ID; it is still retrieved with the study
    (everything under the study UID) and flagged, before and after retrieval."""
    patient = request_patient(AVERY)
    (stray_uid,) = [dcmread(p).SOPInstanceUID for p in archive.stray.files]
    headers = archive.source.instance_headers(archive.mixed.study_uid)
    files = archive.source.retrieve_study(archive.mixed.study_uid, tmp_path / "mixed")
    assert len(files) == len(headers) == len(archive.mixed.files) + 1
    for check in (
        check_instances(patient, headers),
        check_instances(patient, headers_of_files(files)),
    ):
        assert not check.clean
        assert {m.instance_uid for m in check.mismatches} == {stray_uid}
        assert {m.code for m in check.mismatches} == {
            "patient_id_mismatch",
            "patient_name_mismatch",
            "birth_date_mismatch",
        }
        assert (check.counts.studies, check.counts.series, check.counts.instances) == (1, 2, 6)
        issues = check.issues()
        assert {i.code for i in issues} == {
            "imaging_patient_id_mismatch",
            "imaging_patient_name_mismatch",
            "imaging_birth_date_mismatch",
        }
        assert all(i.document_id == archive.mixed.study_uid for i in issues)
        words = " ".join(i.message for i in issues).lower()
        for phi in (AVERY.mrn, JORDAN.mrn, AVERY.family_name, JORDAN.family_name, "1990", "1984"):
            assert phi.lower() not in words
    # Jordan's own request sees the stray as theirs and Avery's images as another patient's
    other = check_instances(request_patient(JORDAN), headers)
    assert {m.instance_uid for m in other.mismatches} == {
        dcmread(p).SOPInstanceUID for p in archive.mixed.files
    }
