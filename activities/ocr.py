"""Reading a stored document: page images (pdftoppm) and its text (ocrmypdf, Tesseract).

The document's bytes are already committed (services.inbound stores them first); this activity
reads them back, makes a PDF of a TIFF or image (Pillow, at the fax's own resolution), draws
each page as a PNG for the split screen, runs `ocrmypdf --force-ocr --deskew` with the
configured Tesseract languages and keeps its text sidecar, then the pure rules of
domain.documents read the fields and the 164.508 elements from that text.

Idempotent: a document already read (or marked unreadable) is left as it is. A document OCR
cannot read (a corrupt file, not a PDF or an image, Tesseract failing or timing out) is marked
"could not be read" for manual keying, with an error code; only a database failure is raised,
so Temporal retries it. Logs carry the document id and codes only.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from temporalio import activity

from activities import names
from activities.heartbeat import keep_heartbeating
from domain.documents import extract
from store import documents
from store.db import session_scope

log = structlog.get_logger(__name__)

#: Page images for the split screen: enough to read handwriting, small enough to send.
PAGE_DPI = 110
#: No document gets more than this for its OCR (ocrmypdf is killed after it).
OCR_TIMEOUT_SECONDS = 600
#: Pages beyond this are stored but not read (a 300-page fax is records, not a request).
MAX_PAGES = 30


class Unreadable(Exception):
    """OCR cannot read this document; `code` says why (no PHI)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class OcrOutput:
    """What reading a document gives: its text (pages separated by form feeds) and PNGs."""

    text: str
    pages: list[bytes]


def tools_missing() -> list[str]:
    """The programs reading needs that this machine lacks (tests skip with their names)."""
    return [tool for tool in ("ocrmypdf", "tesseract", "pdftoppm") if shutil.which(tool) is None]


def kind_of(content: bytes) -> str:
    """pdf, tiff, png, jpeg or unknown, from the file's first bytes (never its name)."""
    if content.startswith(b"%PDF"):
        return "pdf"
    if content[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if content.startswith(b"\x89PNG"):
        return "png"
    if content.startswith(b"\xff\xd8"):
        return "jpeg"
    return "unknown"


def as_pdf(content: bytes) -> bytes:
    """The document as a PDF: a PDF as it is; a TIFF (every page) or image at its own
    resolution, squared up (a fax's 204 x 196 dpi stretched to 204 x 204) for Tesseract."""
    kind = kind_of(content)
    if kind == "pdf":
        return content
    if kind == "unknown":
        raise Unreadable("not_pdf_or_image")
    from PIL import Image, ImageSequence

    try:
        image = Image.open(io.BytesIO(content))
        frames = []
        dpi = 200.0
        for frame in ImageSequence.Iterator(image):
            x_dpi, y_dpi = (float(v) for v in frame.info.get("dpi", (200, 200)))
            page = frame.convert("L")
            if x_dpi and y_dpi and abs(x_dpi - y_dpi) > 1:
                page = page.resize((page.width, round(page.height * x_dpi / y_dpi)))
            dpi = x_dpi or dpi
            frames.append(page)
            if len(frames) >= MAX_PAGES:
                break
    except (OSError, ValueError, SyntaxError):
        raise Unreadable("image_unreadable") from None
    if not frames:
        raise Unreadable("no_pages")
    out = io.BytesIO()
    frames[0].save(out, format="PDF", save_all=True, append_images=frames[1:], resolution=dpi)
    return out.getvalue()


def _run(command: list[str], timeout: float) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Unreadable("ocr_timeout") from None
    except subprocess.CalledProcessError:
        raise Unreadable(f"{Path(command[0]).name}_failed") from None


def page_images(pdf: bytes, dpi: int = PAGE_DPI) -> list[bytes]:
    """Each page as a PNG (pdftoppm), first MAX_PAGES pages."""
    with tempfile.TemporaryDirectory(prefix="roi-doc-") as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        _run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-l",
                str(MAX_PAGES),
                "-png",
                str(source),
                str(Path(folder) / "page"),
            ],
            timeout=120,
        )
        files = sorted(Path(folder).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [p.read_bytes() for p in files]


def ocr_text(pdf: bytes, languages: str, timeout: float = OCR_TIMEOUT_SECONDS) -> str:
    """The document's text as Tesseract reads it, through ocrmypdf (deskewed, every page OCRed
    again even when it has a text layer: a faxed page's text layer is the fax machine's)."""
    with tempfile.TemporaryDirectory(prefix="roi-ocr-") as folder:
        source, target, sidecar = (Path(folder) / n for n in ("in.pdf", "out.pdf", "text.txt"))
        source.write_bytes(pdf)
        _run(
            [
                "ocrmypdf",
                "--quiet",
                "--force-ocr",
                "--deskew",
                "--language",
                languages,
                "--output-type",
                "pdf",
                "--optimize",
                "0",
                "--jobs",
                "1",
                "--pages",
                f"1-{MAX_PAGES}",
                "--sidecar",
                str(sidecar),
                str(source),
                str(target),
            ],
            timeout=timeout,
        )
        return sidecar.read_text(encoding="utf-8", errors="replace")


def read(content: bytes, languages: str) -> OcrOutput:
    """Page images and text of a document (raises Unreadable)."""
    pdf = as_pdf(content)
    pages = page_images(pdf)
    if not pages:
        raise Unreadable("no_pages")
    return OcrOutput(text=ocr_text(pdf, languages), pages=pages)


class InboundActivities:
    """The document-reading activity, wired to the database and the OCR languages."""

    def __init__(self, database_url: str, languages: str = "eng+spa+ara") -> None:
        self.database_url = database_url
        self.languages = languages

    @activity.defn(name=names.READ_DOCUMENT)
    def read_document(self, document_id: str) -> str:
        """Read a stored document once; returns its status (read or unreadable)."""
        with session_scope(self.database_url) as session:
            row = documents.get(session, document_id)
            if row is None:
                log.warning("inbound.read_missing", document_id=document_id)
                return "missing"
            if row.status != documents.RECEIVED:
                return row.status
            stored = documents.content_of(session, document_id)
        assert stored is not None
        content, content_type = stored
        pages: list[bytes] = []
        if content_type.startswith("text/"):  # an email's own words: nothing to OCR
            return self._record(document_id, content.decode("utf-8", "replace"), [])
        try:
            with keep_heartbeating():
                pdf = as_pdf(content)
                pages = page_images(pdf)
                if not pages:
                    raise Unreadable("no_pages")
                text = ocr_text(pdf, self.languages)
        except Unreadable as failed:
            with session_scope(self.database_url) as session:
                documents.record_unreadable(session, document_id, failed.code, pages)
            log.info("inbound.unreadable", document_id=document_id, error=failed.code)
            return documents.UNREADABLE
        return self._record(document_id, text, pages)

    def _record(self, document_id: str, text: str, pages: list[bytes]) -> str:
        reading = extract(text)
        with session_scope(self.database_url) as session:
            documents.record_reading(
                session,
                document_id,
                ocr_text=text,
                extraction=reading.model_dump(mode="json"),
                pages=pages,
            )
        log.info(
            "inbound.read",
            document_id=document_id,
            pages=len(pages),
            fields=len(reading.fields),
            elements_found=sum(1 for e in reading.elements if e.present),
        )
        return documents.READ

    def all(self) -> list[Callable[..., Any]]:
        return [self.read_document]
