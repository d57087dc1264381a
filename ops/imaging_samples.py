"""Synthetic DICOM studies for the demo, the tests and the benchmark (never real patients).

A small CT series, one computed-radiography X-ray and a small MR series, made with pydicom at
setup from the names, MRN and birth date given, with fresh UIDs (`pydicom.uid.generate_uid`).
The pixels are a plain phantom (a disc whose size changes from slice to slice), so nothing is
shipped as a binary file and nothing can be mistaken for a real image. Files are written one
at a time, so a study of any size is made with flat memory (the benchmark's 1 GB study).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    MRImageStorage,
    generate_uid,
)

#: modality -> (SOP class, slices, rows/columns, description) of the default demo series
DEFAULTS: dict[str, tuple[str, int, int, str]] = {
    "CT": (CTImageStorage, 20, 64, "CT CHEST WITHOUT CONTRAST"),
    "CR": (ComputedRadiographyImageStorage, 1, 128, "XR CHEST PA"),
    "MR": (MRImageStorage, 8, 64, "MR BRAIN WITHOUT CONTRAST"),
}
BODY_PART = {"CT": "CHEST", "CR": "CHEST", "MR": "BRAIN"}


@dataclass(frozen=True)
class SyntheticPatient:
    """Who the synthetic images are of (made-up values only)."""

    family_name: str
    given_name: str
    mrn: str
    birth_date: date
    sex: str = "O"

    @property
    def dicom_name(self) -> str:
        """The DICOM person name: FAMILY^GIVEN."""
        return f"{self.family_name}^{self.given_name}"


@dataclass
class SampleStudy:
    """One written study: its UID, date, modality and files."""

    study_uid: str
    study_date: date
    modality: str
    description: str
    series_uids: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _phantom(rows: int, columns: int, position: int, count: int) -> bytes:
    """A disc on a gradient, its radius changing along the series: 16-bit, 12 bits stored."""
    y, x = np.mgrid[0:rows, 0:columns]
    radius = (0.2 + 0.25 * np.sin(np.pi * (position + 1) / (count + 1))) * min(rows, columns)
    inside = (x - columns / 2) ** 2 + (y - rows / 2) ** 2 < radius**2
    pixels = (x * 1000 // max(columns, 1)) + np.where(inside, 2000, 0)
    return np.clip(pixels, 0, 4095).astype("<u2").tobytes()


def _instance(
    patient: SyntheticPatient,
    study: SampleStudy,
    series_uid: str,
    series_number: int,
    position: int,
    count: int,
    rows: int,
    sop_class: str,
) -> Dataset:
    """One image instance with the attributes a DICOMDIR and a viewer need."""
    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"] if count > 1 else ["ORIGINAL", "PRIMARY"]
    day = study.study_date.strftime("%Y%m%d")
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = day
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "093000"
    ds.AccessionNumber = f"A{study.study_uid[-10:].replace('.', '')}"
    ds.Modality = study.modality
    ds.Manufacturer = "ROI SYNTHETIC"
    ds.InstitutionName = "ROI DEMO HOSPITAL"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = study.description
    ds.SeriesDescription = study.description
    ds.PatientName = patient.dicom_name
    ds.PatientID = patient.mrn
    ds.PatientBirthDate = patient.birth_date.strftime("%Y%m%d")
    ds.PatientSex = patient.sex
    ds.BodyPartExamined = BODY_PART.get(study.modality, "")
    ds.StudyInstanceUID = study.study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = series_number
    ds.InstanceNumber = position + 1
    if study.modality in ("CT", "MR"):
        ds.SliceThickness = "2.5"
        ds.ImagePositionPatient = [0, 0, f"{position * 2.5:.1f}"]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[study.study_uid, "frame"])
        ds.SliceLocation = f"{position * 2.5:.1f}"
        ds.PixelSpacing = [0.7, 0.7]
        ds.PositionReferenceIndicator = ""
    if study.modality == "CT":
        ds.KVP = "120"
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
    if study.modality == "MR":
        ds.ScanningSequence = "SE"
        ds.SequenceVariant = "NONE"
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "2D"
        ds.EchoTime = "20"
        ds.RepetitionTime = "500"
        ds.EchoTrainLength = "1"
        ds.MagneticFieldStrength = "1.5"
    if study.modality == "CR":
        ds.ViewPosition = "PA"
        ds.PatientOrientation = ["L", "F"]
        ds.ImagerPixelSpacing = [0.2, 0.2]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = rows
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = "1500"
    ds.WindowWidth = "3000"
    ds.PixelData = _phantom(rows, rows, position, count)
    return ds


def iter_study(
    folder: Path,
    patient: SyntheticPatient,
    modality: str,
    study_date: date,
    *,
    slices: int | None = None,
    size: int | None = None,
    description: str | None = None,
    series: int = 1,
    study_uid: str | None = None,
) -> Iterator[tuple[SampleStudy, Path]]:
    """Write a study file by file, yielding each path as it is written (flat memory).

    `series` series of `slices` images of `size`×`size` pixels; `study_uid` adds to a study
    already written (a stray instance of another patient, in the tests)."""
    sop_class, default_slices, default_size, default_description = DEFAULTS[modality]
    count = slices or default_slices
    rows = size or default_size
    study = SampleStudy(
        study_uid=study_uid or generate_uid(),
        study_date=study_date,
        modality=modality,
        description=description or default_description,
    )
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, series + 1):
        series_uid = generate_uid()
        study.series_uids.append(series_uid)
        for position in range(count):
            ds = _instance(patient, study, series_uid, number, position, count, rows, sop_class)
            path = folder / f"{ds.SOPInstanceUID}.dcm"
            ds.save_as(path, enforce_file_format=True)
            study.files.append(path)
            yield study, path


def write_study(
    folder: Path,
    patient: SyntheticPatient,
    modality: str,
    study_date: date,
    *,
    slices: int | None = None,
    size: int | None = None,
    description: str | None = None,
    series: int = 1,
    study_uid: str | None = None,
) -> SampleStudy:
    """Write a whole study (see `iter_study`) and return it."""
    study: SampleStudy | None = None
    for written, _ in iter_study(
        folder,
        patient,
        modality,
        study_date,
        slices=slices,
        size=size,
        description=description,
        series=series,
        study_uid=study_uid,
    ):
        study = written
    if study is None:
        raise ValueError("a study has at least one instance")
    return study


def write_demo_studies(
    folder: Path, patient: SyntheticPatient, dates: tuple[date, date, date]
) -> list[SampleStudy]:
    """The demo set for one patient: a CT series, a chest X-ray and an MR series, on the three
    dates given (in that order)."""
    return [
        write_study(folder, patient, modality, day)
        for modality, day in zip(("CT", "CR", "MR"), dates, strict=True)
    ]
