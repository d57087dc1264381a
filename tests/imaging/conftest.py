"""One private Orthanc for the imaging tests, with synthetic studies of two patients.

Started once per session under a temporary folder (ops/orthanc.py); the tests skip, naming the
Debian packages, where Orthanc or its DICOMweb plugin is not installed (scripts/test installs
them when it may). Real Orthanc, real DICOMweb: nothing is mocked.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from activities.sources.dicomweb import DicomWebSource
from domain.request import Patient
from ops import orthanc
from ops.imaging_samples import SampleStudy, SyntheticPatient, write_demo_studies, write_study

#: Made-up patients (the same kind of synthetic values as tests/factories.py).
AVERY = SyntheticPatient("Testpatient", "Avery", "IMG-1001", date(1984, 3, 14), "F")
JORDAN = SyntheticPatient("Testother", "Jordan", "IMG-2002", date(1990, 7, 7), "M")
AVERY_DATES = (date(2023, 5, 10), date(2024, 2, 1), date(2025, 1, 15))  # CT, CR, MR
JORDAN_DATES = (date(2023, 8, 1), date(2024, 3, 3), date(2024, 9, 9))
MIXED_DATE = date(2024, 6, 1)
PASSWORD = "imaging-test-password"

needs_dcmtk = pytest.mark.skipif(
    shutil.which("dcmdump") is None or shutil.which("dcmftest") is None,
    reason="dcmtk missing (apt-get install dcmtk)",
)


def request_patient(who: SyntheticPatient) -> Patient:
    """The patient as a request names them."""
    return Patient(
        first_name=who.given_name,
        last_name=who.family_name,
        date_of_birth=who.birth_date,
        mrn=who.mrn,
    )


@dataclass
class Archive:
    """The running archive and what was loaded into it."""

    server: orthanc.Orthanc
    source: DicomWebSource
    avery: list[SampleStudy]  # CT, CR, MR
    jordan: list[SampleStudy]
    #: Avery's CT with one instance of Jordan's (another Patient ID) filed under its UID
    mixed: SampleStudy
    stray: SampleStudy


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    if problems := orthanc.missing():
        pytest.skip(f"Orthanc missing: {', '.join(problems)}")
    root = tmp_path_factory.mktemp("imaging")
    samples = root / "samples"
    avery = write_demo_studies(samples / "avery", AVERY, AVERY_DATES)
    jordan = write_demo_studies(samples / "jordan", JORDAN, JORDAN_DATES)
    mixed = write_study(samples / "mixed", AVERY, "CT", MIXED_DATE, slices=5)
    stray = write_study(
        samples / "stray", JORDAN, "CT", MIXED_DATE, slices=1, study_uid=mixed.study_uid
    )
    server = orthanc.start(root / "orthanc", password=PASSWORD)
    try:
        server.load_folder(samples)
        source = DicomWebSource(server.dicomweb_url, user=server.user, password=PASSWORD)
        yield Archive(server, source, avery, jordan, mixed, stray)
    finally:
        server.stop()
