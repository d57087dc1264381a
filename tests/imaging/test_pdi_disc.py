"""The IHE PDI disc layout, read back by DCMTK (dcmftest, dcmdump) and pydicom's FileSet."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.fileset import FileSet

from activities.channels.pdi import PdiDisc, build_pdi, members
from domain.imaging import check_instances
from tests.imaging.conftest import AVERY, Archive, needs_dcmtk, request_patient

HOSPITAL = "Mercy <Demo> & Hospital"


@pytest.fixture(scope="module")
def disc(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> PdiDisc:
    """Avery's three studies, retrieved from Orthanc and laid out as a disc."""
    work = tmp_path_factory.mktemp("disc")
    files: list[Path] = []
    for study in archive.avery:
        files += archive.source.retrieve_study(study.study_uid, work / "in" / study.modality)
    return build_pdi(files, work / "out", hospital=HOSPITAL, reference="R-2026-000123")


def _on_disc(root: Path) -> set[Path]:
    return {p.resolve() for p in (root / "DICOM").rglob("*") if p.is_file()}


def test_the_layout(disc: PdiDisc, archive: Archive) -> None:
    root = disc.root
    assert {p.name for p in root.iterdir()} == {"DICOMDIR", "DICOM", "README.TXT", "INDEX.HTM"}
    expected = sum(len(s.files) for s in archive.avery)
    files = _on_disc(root)
    assert len(files) == expected == disc.counts.instances
    for path in files:  # ISO 9660 level 1: 8 upper-case characters, no extension
        for part in path.relative_to(root.resolve()).parts:
            assert re.fullmatch(r"[A-Z0-9_]{1,8}", part), part
    assert [name for _, name in members(root)][:3] == ["DICOMDIR", "README.TXT", "INDEX.HTM"]
    assert len(members(root)) == expected + 3


@needs_dcmtk
def test_dcmtk_reads_the_dicomdir_and_every_file(disc: PdiDisc) -> None:
    dicomdir = disc.root / "DICOMDIR"
    tested = subprocess.run(["dcmftest", str(dicomdir)], capture_output=True, text=True)
    assert tested.returncode == 0 and tested.stdout.startswith("yes:"), tested.stdout
    dumped = subprocess.run(["dcmdump", str(dicomdir)], capture_output=True, text=True)
    assert dumped.returncode == 0, dumped.stderr
    referenced = re.findall(r"\(0004,1500\) CS \[([^\]]+)\]", dumped.stdout)
    assert len(referenced) == disc.counts.instances
    assert all(ref.startswith("DICOM\\") for ref in referenced)
    assert "MediaStorageDirectoryStorage" in dumped.stdout
    every = sorted(str(p) for p in _on_disc(disc.root))
    files = subprocess.run(["dcmftest", *every], capture_output=True, text=True)
    assert files.returncode == 0
    assert files.stdout.count("yes:") == len(every)


def test_pydicom_finds_every_referenced_file_and_every_file_is_referenced(
    disc: PdiDisc,
) -> None:
    fs = FileSet(disc.root / "DICOMDIR")
    referenced = {Path(instance.path).resolve() for instance in fs}
    assert referenced == _on_disc(disc.root)
    assert len(fs) == disc.counts.instances
    uids = {instance.SOPInstanceUID for instance in fs}
    assert uids == {h.instance_uid for h in disc.headers}
    assert len(fs.find_values("StudyInstanceUID")) == disc.counts.studies == 3
    for instance in fs:
        ds = instance.load()
        assert ds.SOPInstanceUID == instance.SOPInstanceUID
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"


def test_the_index_lists_each_study(disc: PdiDisc, archive: Archive) -> None:
    index = (disc.root / "INDEX.HTM").read_text(encoding="utf-8")
    assert "Mercy &lt;Demo&gt; &amp; Hospital" in index and "<Demo>" not in index
    for study in archive.avery:
        row = (
            f"<tr><td>{study.study_date.isoformat()}</td><td>{study.modality}</td>"
            f"<td>{study.description}</td><td>1</td><td>{len(study.files)}</td></tr>"
        )
        assert row in index
    assert AVERY.family_name.lower() not in index.lower()


def test_the_readme(disc: PdiDisc) -> None:
    readme = (disc.root / "README.TXT").read_bytes().decode("ascii")
    assert "R-2026-000123" in readme and "Mercy <Demo> & Hospital" in readme
    assert "protected health information" in readme
    assert "No image viewer is included" in readme
    assert "(3 studies, 29 images)" in " ".join(readme.split())


def test_the_disc_is_checked_as_written(disc: PdiDisc) -> None:
    check = check_instances(request_patient(AVERY), disc.headers)
    assert check.clean and check.counts == disc.counts


def test_a_disc_of_a_mixed_study_is_flagged(archive: Archive, tmp_path: Path) -> None:
    files = archive.source.retrieve_study(archive.mixed.study_uid, tmp_path / "in")
    built = build_pdi(files, tmp_path / "out", hospital="H", reference="R-1")
    check = check_instances(request_patient(AVERY), built.headers)
    (stray,) = archive.stray.files
    assert {m.instance_uid for m in check.mismatches} == {dcmread(stray).SOPInstanceUID}


def test_the_folder_must_be_empty(tmp_path: Path, disc: PdiDisc) -> None:
    (tmp_path / "x").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        build_pdi([], tmp_path, hospital="H", reference="R")
