"""An imaging release as the patient's study page shows it, read from the zip the email link
serves (activities/channels/imaging.py builds it once: the disc, a JPEG preview per series and
`PREVIEW/INDEX.JSON` listing the studies and series). The page never asks the archive: what it
shows is what was released."""

from __future__ import annotations

import re
import zipfile
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from domain.imaging import ReleaseIndex

#: Where the list of studies and series sits in the zip, and what a preview's name looks like.
INDEX_MEMBER = "PREVIEW/INDEX.JSON"
PREVIEW_NAME = re.compile(r"^ST\d{3}_SE\d{3}$")
#: A preview is small (at most 512 px); anything larger is not ours to serve.
MAX_PREVIEW_BYTES = 4 * 1024 * 1024


def release_index(package_path: str) -> ReleaseIndex | None:
    """The studies and series of a built imaging release (None: not an imaging zip, gone, or
    built before the index was written)."""
    path = Path(package_path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _index(str(path), stamp)


@lru_cache(maxsize=64)
def _index(path: str, stamp: int) -> ReleaseIndex | None:
    """Cached per file and modification time (a rebuilt zip is read again)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return ReleaseIndex.model_validate_json(archive.read(INDEX_MEMBER))
    except (OSError, KeyError, zipfile.BadZipFile, ValidationError):
        return None


def preview(package_path: str, name: str) -> bytes | None:
    """One series' JPEG preview from the release zip (None: no such preview)."""
    if not PREVIEW_NAME.match(name):
        return None
    try:
        with zipfile.ZipFile(package_path) as archive:
            info = archive.getinfo(f"PREVIEW/{name}.jpg")
            if info.file_size > MAX_PREVIEW_BYTES:
                return None
            return archive.read(info)
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
