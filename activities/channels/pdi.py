"""An IHE Portable Data for Imaging (PDI) disc layout, built from retrieved DICOM instances.

    DICOMDIR             the DICOM media directory (pydicom `FileSet`), root of the disc
    DICOM/PT000000/ST000000/SE000000/IM000000 ...   the instances, 8-character upper-case
                         components (ISO 9660 level 1), uncompressed Explicit VR Little Endian
    README.TXT           what the disc is, who made it, that it holds health information
    INDEX.HTM            the studies on the disc (date, modality, description, counts)

The builder reads one instance at a time (pydicom) and copies it through pydicom's staging
folder, so memory stays flat whatever the study's size; the headers it collects on the way
are returned, so the identity rules (`domain.imaging`) check exactly what is on the disc.
`members` lists the files with their names on the disc: what the encrypted CD container
(`activities.channels.cd`) adds to its zip, streamed from disk.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field
from pydicom import dcmread
from pydicom.fileset import FileSet

from activities.sources.dicomweb import header_of
from domain.imaging import ImagingCounts, InstanceHeader

DICOM_FOLDER = "DICOM"
FILE_SET_ID = "ROI_IMAGES"

README = """RELEASE OF INFORMATION - MEDICAL IMAGES (DICOM)\r
{hospital}\r
Reference: {reference}\r
\r
This disc holds medical images in the DICOM format, laid out as an IHE Portable\r
Data for Imaging (PDI) disc: the DICOMDIR file lists every image, the images are\r
in the DICOM folder, and INDEX.HTM lists the studies ({studies} studies,\r
{instances} images).\r
\r
The images contain protected health information about the patient. Keep this\r
disc secure; do not share it with anyone the patient did not authorize.\r
\r
No image viewer is included on this disc. Open it with any DICOM viewer (for\r
example the one your doctor's office or hospital uses) by opening DICOMDIR.\r
\r
If you received this disc by mistake, do not open the images: call the Release\r
of Information office and return the disc.\r
"""

INDEX = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Medical images</title></head>
<body>
<h1>Medical images</h1>
<p>{hospital} &mdash; reference {reference}</p>
<p>Open these images with a DICOM viewer: the DICOMDIR file lists every image.
No viewer is included on this disc. These images contain protected health information.</p>
<table border="1" cellpadding="4">
<thead><tr><th>Study date</th><th>Modality</th><th>Description</th><th>Series</th>\
<th>Images</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


class DiscStudy(BaseModel):
    """One study on the disc, as INDEX.HTM lists it."""

    study_uid: str
    study_date: date | None = None
    modalities: list[str] = Field(default_factory=list)
    description: str = ""
    series: int = 0
    instances: int = 0


class PdiDisc(BaseModel):
    """A built disc layout: where it is, what is on it."""

    root: Path
    studies: list[DiscStudy] = Field(default_factory=list)
    counts: ImagingCounts = Field(default_factory=ImagingCounts)
    #: the identity of every instance written (PHI: never logged), for domain.imaging
    headers: list[InstanceHeader] = Field(default_factory=list, repr=False)


class _Study:
    """What the builder gathers per study while it reads instance by instance."""

    def __init__(self, uid: str) -> None:
        self.uid = uid
        self.date: date | None = None
        self.description = ""
        self.modalities: list[str] = []
        self.series: set[str] = set()
        self.instances = 0


def _day(value: str) -> date | None:
    digits = value.strip().replace(".", "")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) if digits else None
    except ValueError:
        return None


def build_pdi(instances: Iterable[Path], out: Path, *, hospital: str, reference: str) -> PdiDisc:
    """Lay the instances out as a PDI disc in `out` (which must not exist or be empty).

    `reference` is the request's public reference (no PHI); `hospital` the site's name."""
    if out.exists() and any(out.iterdir()):
        raise ValueError("the disc folder is not empty")
    out.mkdir(parents=True, exist_ok=True)
    fs = FileSet()
    fs.ID = FILE_SET_ID
    studies: dict[str, _Study] = {}
    headers: list[InstanceHeader] = []
    for path in instances:
        ds = dcmread(path)  # one instance in memory: staged to disk by add()
        header = header_of(ds)
        headers.append(header)
        study = studies.setdefault(header.study_uid, _Study(header.study_uid))
        study.date = study.date or _day(str(ds.get("StudyDate", "")))
        study.description = study.description or str(ds.get("StudyDescription", "") or "")
        modality = str(ds.get("Modality", "") or "")
        if modality and modality not in study.modalities:
            study.modalities.append(modality)
        study.series.add(header.series_uid)
        study.instances += 1
        fs.add(ds)
        del ds
    if not headers:
        raise ValueError("a disc needs at least one instance")
    fs.write(out)
    _move_under_dicom_folder(out)

    listed = [
        DiscStudy(
            study_uid=s.uid,
            study_date=s.date,
            modalities=s.modalities,
            description=s.description,
            series=len(s.series),
            instances=s.instances,
        )
        for s in sorted(studies.values(), key=lambda s: (s.date or date.min, s.uid))
    ]
    counts = ImagingCounts(
        studies=len(listed),
        series=sum(s.series for s in listed),
        instances=sum(s.instances for s in listed),
    )
    readme = README.format(
        hospital=hospital,
        reference=reference,
        studies=counts.studies,
        instances=counts.instances,
    )
    (out / "README.TXT").write_bytes(readme.encode("ascii", "replace"))
    (out / "INDEX.HTM").write_text(index_html(listed, hospital, reference), encoding="utf-8")
    return PdiDisc(root=out, studies=listed, counts=counts, headers=headers)


def index_html(studies: list[DiscStudy], hospital: str, reference: str) -> str:
    """INDEX.HTM: one row per study, every value escaped."""
    esc = html.escape
    rows = "\n".join(
        "<tr>"
        f"<td>{esc(s.study_date.isoformat()) if s.study_date else 'unknown'}</td>"
        f"<td>{esc(', '.join(s.modalities))}</td>"
        f"<td>{esc(s.description)}</td>"
        f"<td>{s.series}</td>"
        f"<td>{s.instances}</td>"
        "</tr>"
        for s in studies
    )
    return INDEX.format(hospital=esc(hospital), reference=esc(reference), rows=rows)


def _move_under_dicom_folder(out: Path) -> None:
    """pydicom writes the instances next to DICOMDIR; PDI keeps them in a DICOM folder. Move
    them, prefix every record's Referenced File ID, and let pydicom write the DICOMDIR again
    (it recomputes the records' offsets)."""
    folder = out / DICOM_FOLDER
    folder.mkdir()
    for child in sorted(out.iterdir()):
        if child.is_dir() and child != folder:
            shutil.move(child, folder / child.name)
    dicomdir = dcmread(out / "DICOMDIR")
    for record in dicomdir.DirectoryRecordSequence:
        if "ReferencedFileID" in record:
            value = record.ReferencedFileID
            parts = [value] if isinstance(value, str) else list(value)
            record.ReferencedFileID = [DICOM_FOLDER, *parts]
    fs = FileSet(dicomdir)
    fs.ID = FILE_SET_ID  # stages a change, so write() writes the DICOMDIR again
    fs.write(use_existing=True)


def members(root: Path) -> list[tuple[Path, str]]:
    """Every file of a disc layout with its name on the disc (forward slashes), DICOMDIR and
    the text files first: what a container adds, file by file from disk."""
    first = ["DICOMDIR", "README.TXT", "INDEX.HTM"]
    files = [(root / name, name) for name in first if (root / name).is_file()]
    files += [
        (path, path.relative_to(root).as_posix())
        for path in sorted((root / DICOM_FOLDER).rglob("*"))
        if path.is_file()
    ]
    return files
