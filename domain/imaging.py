"""Whose images these are, decided before any image leaves: pure rules over DICOM header values.

An imaging study is released image by image, and one instance of another patient filed into a
study (a mislabelled scan, a merge gone wrong) is a misdirected disclosure like any other. So
every instance's Patient Name, Patient ID and Patient Birth Date are matched against the
request's patient; any mismatch holds the release for staff with a code and plain words (the
instance and study UIDs say where to look; no name, MRN or date is ever in a message).

The caller passes the header values as plain strings (the activity reads them with pydicom),
so this module stays free of I/O and of any DICOM library.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.release_safety import SafetyIssue, _norm
from domain.request import Patient


class InstanceHeader(BaseModel):
    """One DICOM instance's identity, as stored in its header (PHI: never logged)."""

    study_uid: str
    series_uid: str
    instance_uid: str
    # kept out of repr, so a traceback or an assertion never prints them
    patient_name: str = Field(default="", repr=False)  # DICOM PN: FAMILY^GIVEN^MIDDLE...
    patient_id: str = Field(default="", repr=False)  # (0010,0020): the archive's MRN
    birth_date: str = Field(default="", repr=False)  # DICOM DA: YYYYMMDD


class Attribute(StrEnum):
    """The header attributes matched against the request."""

    PATIENT_NAME = "PatientName"
    PATIENT_ID = "PatientID"
    BIRTH_DATE = "PatientBirthDate"


class ImagingMismatch(BaseModel):
    """One instance whose identity does not match the request (codes and UIDs, no PHI)."""

    code: str  # e.g. patient_id_mismatch, birth_date_missing
    attribute: Attribute
    study_uid: str
    instance_uid: str


class ImagingCounts(BaseModel):
    """How much imaging a release holds: shown on the request before it goes."""

    studies: int = 0
    series: int = 0
    instances: int = 0


class ImagingCheck(BaseModel):
    """Counts of what was checked, and every instance that does not match."""

    counts: ImagingCounts = Field(default_factory=ImagingCounts)
    mismatches: list[ImagingMismatch] = Field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Every instance is the request's patient's."""
        return not self.mismatches

    def issues(self) -> list[SafetyIssue]:
        """What holds the release, one issue per study and kind of mismatch (staff read these)."""
        grouped: Counter[tuple[str, str, Attribute]] = Counter(
            (m.study_uid, m.code, m.attribute) for m in self.mismatches
        )
        return [
            SafetyIssue(
                code=f"imaging_{code}",
                message=_MESSAGES[code].format(
                    count=count,
                    images="image" if count == 1 else "images",
                    attribute=attribute.value,
                ),
                document_id=study_uid,
            )
            for (study_uid, code, attribute), count in grouped.items()
        ]


_MESSAGES = {
    "patient_name_mismatch": (
        "{count} {images} in this study carry another patient's name ({attribute})."
    ),
    "patient_id_mismatch": (
        "{count} {images} in this study carry another patient ID ({attribute}) than the MRN."
    ),
    "patient_id_inconsistent": (
        "{count} {images} in this study carry a patient ID ({attribute}) that differs from the "
        "other images of the release."
    ),
    "birth_date_mismatch": (
        "{count} {images} in this study carry another date of birth ({attribute})."
    ),
    "patient_name_missing": "{count} {images} in this study have no patient name ({attribute}).",
    "patient_id_missing": "{count} {images} in this study have no patient ID ({attribute}).",
    "birth_date_missing": "{count} {images} in this study have no date of birth ({attribute}).",
}


def _compact(text: str) -> str:
    """An identifier without case, spaces or punctuation (MRN 12-345-678 is 12345678)."""
    return "".join(_norm(text).split())


def name_matches(patient: Patient, dicom_name: str) -> bool:
    """The DICOM person name (its alphabetic group) is the patient's: same family name, and a
    given name that is the first name, possibly followed by the middle name or an initial."""
    alphabetic = dicom_name.split("=")[0]
    parts = alphabetic.split("^")
    if len(parts) < 2:
        return False  # no family/given split: cannot be shown to be this patient
    family, given = _norm(parts[0]), _norm(parts[1])
    if family != _norm(patient.last_name):
        return False
    first = _norm(patient.first_name)
    return given == first or given.startswith(f"{first} ")


def birth_date_of(value: str) -> date | None:
    """A DICOM DA value (YYYYMMDD; the old YYYY.MM.DD too) as a date; None when not one."""
    digits = value.strip().replace(".", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def check_instances(patient: Patient, headers: Iterable[InstanceHeader]) -> ImagingCheck:
    """Match every instance against the request's patient and count studies, series, instances.

    With an MRN on the request, each Patient ID must be it; without one, every instance must
    carry the same Patient ID (an instance whose ID differs from the most common one is
    flagged). Name and birth date are checked on every instance either way."""
    items = list(headers)
    mismatches: list[ImagingMismatch] = []
    ids = Counter(_compact(h.patient_id) for h in items if h.patient_id.strip())
    expected_id = _compact(patient.mrn) if patient.mrn else None
    usual_id = ids.most_common(1)[0][0] if ids else None

    def flag(header: InstanceHeader, code: str, attribute: Attribute) -> None:
        mismatches.append(
            ImagingMismatch(
                code=code,
                attribute=attribute,
                study_uid=header.study_uid,
                instance_uid=header.instance_uid,
            )
        )

    for header in items:
        if not header.patient_name.strip():
            flag(header, "patient_name_missing", Attribute.PATIENT_NAME)
        elif not name_matches(patient, header.patient_name):
            flag(header, "patient_name_mismatch", Attribute.PATIENT_NAME)
        if not header.patient_id.strip():
            flag(header, "patient_id_missing", Attribute.PATIENT_ID)
        elif expected_id is not None and _compact(header.patient_id) != expected_id:
            flag(header, "patient_id_mismatch", Attribute.PATIENT_ID)
        elif expected_id is None and _compact(header.patient_id) != usual_id:
            flag(header, "patient_id_inconsistent", Attribute.PATIENT_ID)
        born = birth_date_of(header.birth_date)
        if born is None:
            flag(header, "birth_date_missing", Attribute.BIRTH_DATE)
        elif born != patient.date_of_birth:
            flag(header, "birth_date_mismatch", Attribute.BIRTH_DATE)
    counts = ImagingCounts(
        studies=len({h.study_uid for h in items}),
        series=len({(h.study_uid, h.series_uid) for h in items}),
        instances=len({h.instance_uid for h in items}),
    )
    return ImagingCheck(counts=counts, mismatches=mismatches)


class SeriesShown(BaseModel):
    """One series of a released study as the patient's study page lists it (PHI: the
    description may name a body part; never logged)."""

    number: int | None = None
    modality: str = ""
    description: str = ""
    instances: int = 0
    #: its JPEG preview's name inside the release zip (None: no pixels this machine decodes)
    preview: str | None = None


class StudyShown(BaseModel):
    """One released study: its date, modalities, description and series."""

    study_date: date | None = None
    description: str = ""
    modalities: list[str] = Field(default_factory=list)
    series: list[SeriesShown] = Field(default_factory=list)

    @property
    def instances(self) -> int:
        return sum(s.instances for s in self.series)


class ReleaseIndex(BaseModel):
    """What an imaging download holds, written into its zip when it is built, so the study
    page reads the release as sent (never the archive at view time)."""

    studies: list[StudyShown] = Field(default_factory=list)

    @property
    def counts(self) -> ImagingCounts:
        return ImagingCounts(
            studies=len(self.studies),
            series=sum(len(s.series) for s in self.studies),
            instances=sum(s.instances for s in self.studies),
        )
