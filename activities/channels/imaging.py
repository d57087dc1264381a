"""An imaging request released from the DICOMweb archive: checked image by image, then sent.

Before any image moves, the patient's studies in the request's dates are found (QIDO-RS) and
every instance's identity is read from its metadata and matched against the request
(`domain.imaging`); a mismatch, or no study at all, holds the release for staff (ReleaseHeld,
the same hold path as a document release). Then the studies are streamed to a work folder
under the outbox, checked again as retrieved, and laid out as an IHE PDI disc:

- CD by mail or FedEx: the disc goes into the encrypted container the CD channel builds (an
  AES-256 RECORDS.ZIP inside an ISO), file by file from disk;
- email link: the download is a zip of the disc (DICOMDIR, DICOM files, README, INDEX.HTM)
  plus one JPEG preview per series and `PREVIEW/INDEX.JSON` (the studies and series, for the
  portal's study page), built on disk and served by the portal's study page (and the staff
  app's download route).

Everything is named by the delivery key, so a retried activity finds what an earlier attempt
built and reuses it. Nothing here logs a UID, name, MRN or date: events carry the request id.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

import numpy as np
import structlog
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from activities.channels import cd
from activities.channels.packet import ReleaseHeld
from activities.channels.pdi import PdiDisc, build_pdi, members
from activities.outbox import Outbox
from activities.sources.dicomweb import DicomWebSource, StudySummary, headers_of_files
from domain.imaging import (
    ImagingCheck,
    ImagingCounts,
    InstanceHeader,
    ReleaseIndex,
    SeriesShown,
    StudyShown,
    check_instances,
)
from domain.release_safety import ReleaseDecision, SafetyIssue
from domain.request import RecordRequestSubmission
from domain.sites import site_profile

log = structlog.get_logger(__name__)

#: The outbox folder holding each delivery's retrieved studies while its output is built.
WORK = "imaging-work"
#: The previews' folder inside the download zip.
PREVIEWS = "PREVIEW"
#: Hold codes of an imaging release and the plain words staff read on the request page (no PHI).
HOLD_TEXT = {
    "imaging_no_studies": "No imaging studies were found in the dates asked for.",
    "imaging_no_mrn": "The request has no MRN: the archive finds a patient's images by MRN.",
}


def held(*issues: SafetyIssue) -> ReleaseHeld:
    """The ReleaseHeld error for these issues (non-retryable: back to a specialist)."""
    return ReleaseHeld(ReleaseDecision(blocking=list(issues)))


def hold_issue(code: str) -> SafetyIssue:
    return SafetyIssue(code=code, message=HOLD_TEXT[code])


@dataclass
class Retrieved:
    """The request's images on disk, checked: what the outputs are built from."""

    files: list[Path]
    counts: ImagingCounts
    headers: list[InstanceHeader]


def find_and_check(
    source: DicomWebSource, sub: RecordRequestSubmission
) -> tuple[list[StudySummary], ImagingCheck]:
    """The patient's studies in the request's dates and the identity check of every instance
    (metadata only: no pixels move). Raises ReleaseHeld when there is nothing to release or an
    instance is not the request's patient's."""
    if not sub.patient.mrn:
        raise held(hold_issue("imaging_no_mrn"))
    studies = source.find_studies(sub.patient.mrn, sub.records.date_from, sub.records.date_to)
    if not studies:
        raise held(hold_issue("imaging_no_studies"))
    headers: list[InstanceHeader] = []
    for study in studies:
        headers += source.instance_headers(study.study_uid)
    check = check_instances(sub.patient, headers)
    if not check.clean:
        raise held(*check.issues())
    return studies, check


def retrieve(
    source: DicomWebSource, sub: RecordRequestSubmission, work: Path, request_id: str
) -> Retrieved:
    """Check, then stream every study to `work/in` (emptied first: an earlier attempt may have
    stopped half way); the retrieved files are checked again, as they will be released."""
    studies, before = find_and_check(source, sub)
    incoming = work / "in"
    shutil.rmtree(incoming, ignore_errors=True)
    files: list[Path] = []
    for number, study in enumerate(studies, start=1):
        files += source.retrieve_study(study.study_uid, incoming / f"ST{number:06d}")
    headers = headers_of_files(files)
    after = check_instances(sub.patient, headers)
    if not after.clean:  # filed into a study between the check and the retrieval
        raise held(*after.issues())
    log.info(
        "imaging.retrieved",
        request_id=request_id,
        studies=after.counts.studies,
        series=after.counts.series,
        instances=after.counts.instances,
        checked=before.counts.instances,
    )
    return Retrieved(files=files, counts=after.counts, headers=headers)


def disc_of(
    retrieved: Retrieved, work: Path, sub: RecordRequestSubmission, reference: str
) -> PdiDisc:
    """The PDI disc layout of the retrieved images in `work/disc` (rebuilt from scratch)."""
    root = work / "disc"
    shutil.rmtree(root, ignore_errors=True)
    hospital = site_profile(sub.site).display_name
    return build_pdi(retrieved.files, root, hospital=hospital, reference=reference)


# ---- JPEG previews ------------------------------------------------------------------------


def to_8bit(ds: Dataset) -> np.ndarray:
    """The (middle frame of the) image as 8-bit pixels: modality LUT, then the stored window
    (or the image's own range when it has none); MONOCHROME1 inverted so bone is white."""
    pixels = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        pixels = pixels[frames // 2]
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if pixels.ndim == 3 and pixels.shape[-1] == 3:  # colour: already display values
        if pixels.dtype != np.uint8:
            pixels = pixels.astype(np.float64)
            pixels = (pixels - pixels.min()) / max(float(np.ptp(pixels)), 1.0) * 255.0
        return np.asarray(pixels, dtype=np.uint8)
    values = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
    if "WindowCenter" in ds and "WindowWidth" in ds:
        values = np.asarray(apply_voi_lut(values, ds, index=0), dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / max(high - low, 1e-6) * 255.0
    if photometric == "MONOCHROME1":
        scaled = 255.0 - scaled
    return np.clip(scaled, 0, 255).astype(np.uint8)


def write_preview(path: Path, out: Path, *, size: int = 512) -> None:
    """A JPEG of one instance, at most `size` pixels on its longer side."""
    _write_preview(dcmread(path), out, size=size)


def _write_preview(ds: Dataset, out: Path, *, size: int = 512) -> None:
    image = Image.fromarray(to_8bit(ds))
    image.thumbnail((size, size))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB" if image.mode not in ("L", "RGB") else image.mode).save(
        out, "JPEG", quality=85
    )


def previews(retrieved: Retrieved, folder: Path) -> list[tuple[Path, str]]:
    """One JPEG per series (its middle instance), named by study and series order."""
    made, _index = previews_and_index(retrieved, folder)
    return made


def _number(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def previews_and_index(
    retrieved: Retrieved, folder: Path
) -> tuple[list[tuple[Path, str]], ReleaseIndex]:
    """One JPEG per series (its middle instance), named by study and series order, and the
    list of studies and series the study page shows (read from each series' middle instance,
    which is decoded for its preview anyway)."""
    shutil.rmtree(folder, ignore_errors=True)
    by_study: dict[str, dict[str, list[Path]]] = {}
    for path, header in zip(retrieved.files, retrieved.headers, strict=True):
        by_study.setdefault(header.study_uid, {}).setdefault(header.series_uid, []).append(path)
    made: list[tuple[Path, str]] = []
    studies: list[StudyShown] = []
    for study, series in enumerate(by_study.values(), start=1):
        shown = StudyShown()
        for number, paths in enumerate(series.values(), start=1):
            name = f"ST{study:03d}_SE{number:03d}.jpg"
            ds = dcmread(paths[len(paths) // 2])
            modality = str(ds.get("Modality", "") or "")
            shown.study_date = shown.study_date or _day(str(ds.get("StudyDate", "") or ""))
            shown.description = shown.description or str(ds.get("StudyDescription", "") or "")
            if modality and modality not in shown.modalities:
                shown.modalities.append(modality)
            entry = SeriesShown(
                number=_number(ds.get("SeriesNumber")),
                modality=modality,
                description=str(ds.get("SeriesDescription", "") or ""),
                instances=len(paths),
            )
            try:
                _write_preview(ds, folder / name)
            except (ValueError, RuntimeError, AttributeError, NotImplementedError):
                pass  # no pixel data this machine can decode (a report, an odd codec)
            else:
                made.append((folder / name, f"{PREVIEWS}/{name}"))
                entry.preview = name.removesuffix(".jpg")
            shown.series.append(entry)
            del ds
        studies.append(shown)
    studies.sort(key=lambda s: s.study_date or date.min)
    return made, ReleaseIndex(studies=studies)


def _day(value: str) -> date | None:
    digits = value.strip().replace(".", "")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) if digits else None
    except ValueError:
        return None


def write_zip(files: Iterable[tuple[Path, str]], out: BinaryIO) -> None:
    """A zip written file by file from disk (DICOM compresses little: fast deflate)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path, name in files:
            archive.write(path, name)


def _counts_path(outbox: Outbox, key: str) -> Path:
    return outbox.path_for(WORK, f"{key}-counts", ".json")


def _built(outbox: Outbox, target: Path, key: str) -> ImagingCounts | None:
    """What an earlier attempt built for this key (its counts), or None when nothing was."""
    counts = _counts_path(outbox, key)
    if target.exists() and counts.exists():
        return ImagingCounts.model_validate_json(counts.read_text())
    return None


def _finish(outbox: Outbox, key: str, work: Path, counts: ImagingCounts) -> None:
    outbox.replace(WORK, f"{key}-counts", ".json", counts.model_dump_json().encode())
    shutil.rmtree(work, ignore_errors=True)


def download_zip(
    source: DicomWebSource,
    outbox: Outbox,
    sub: RecordRequestSubmission,
    *,
    key: str,
    request_id: str,
    reference: str,
) -> tuple[Path, ImagingCounts]:
    """The email link's download for this key (the disc layout and a JPEG per series in a
    zip): reused when an earlier attempt built it."""
    target = outbox.path_for("releases", key, ".zip")
    if (counts := _built(outbox, target, key)) is not None:
        return target, counts
    work = outbox.path_for(WORK, key, "")
    retrieved = retrieve(source, sub, work, request_id)
    disc = disc_of(retrieved, work, sub, reference)
    shown, index = previews_and_index(retrieved, work / "preview")
    listing = work / "INDEX.JSON"
    listing.write_text(index.model_dump_json())
    with outbox.spool("releases", key, ".zip") as out:
        write_zip([*members(disc.root), *shown, (listing, f"{PREVIEWS}/INDEX.JSON")], out)
    _finish(outbox, key, work, disc.counts)
    return target, disc.counts


def disc_image(
    source: DicomWebSource,
    outbox: Outbox,
    sub: RecordRequestSubmission,
    *,
    key: str,
    request_id: str,
    reference: str,
    password: str,
) -> tuple[Path, ImagingCounts]:
    """The encrypted CD for this key: the PDI disc in the AES-256 RECORDS.ZIP of the ISO,
    streamed from disk; reused when an earlier attempt built it."""
    target = outbox.path_for("cd", key, ".iso")
    if (counts := _built(outbox, target, key)) is not None:
        return target, counts
    work = outbox.path_for(WORK, key, "")
    retrieved = retrieve(source, sub, work, request_id)
    disc = disc_of(retrieved, work, sub, reference)
    zipped = work / "RECORDS.ZIP"
    with zipped.open("wb") as out:
        cd.encrypted_zip_of_files(members(disc.root), password, out)
    with outbox.spool("cd", key, ".iso") as out:
        cd.iso_image_to(zipped, reference, out)
    _finish(outbox, key, work, disc.counts)
    return target, disc.counts
