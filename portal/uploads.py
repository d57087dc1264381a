"""Documents a requester uploads (a guardianship order, a death certificate, an adoption
decree): PDF, JPEG or PNG only, the type told from the bytes themselves (never the file's name
or the browser's word), size-limited, and re-encoded so nothing active or hidden survives.

Images go through Pillow: decoded (a decompression bomb is refused), turned upright, and only
their pixels are written to a new file, so EXIF (GPS, camera, dates), XMP, ICC and text chunks
are left behind. PDFs go through pikepdf (qpdf): the document catalog keeps only its pages
and how they are labelled and tagged (so OpenAction, AA, JavaScript, embedded and associated
files, forms and their scripts, outlines and metadata go), pages lose their actions and
associated files, annotations that act or carry a file are dropped, and a new file is
written with only what is still reachable. What is kept is stored encrypted with its
submission (services/intake.py, store/portal.py) and is never served back on the portal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from io import BytesIO

import pikepdf
from PIL import Image, ImageOps, UnidentifiedImageError

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
#: What Pillow may decode: these two formats only (it tells them apart by their bytes).
IMAGE_FORMATS = ("JPEG", "PNG")
#: Annotations that carry a file, a sound or a movie, or a script's form: never kept.
_DROPPED_ANNOTATIONS = frozenset(
    {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
)


class UploadRefused(Exception):
    """Not a document we keep; `code` names why (a portal/forms.py message code)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanDocument:
    """A re-encoded document: what is stored, its type and its number of pages."""

    media_type: str
    content: bytes
    pages: int


def clean(data: bytes, max_bytes: int) -> CleanDocument:
    """The document re-encoded, or UploadRefused (`upload_missing`, `upload_too_large`,
    `upload_type`, `upload_unreadable`)."""
    if not data:
        raise UploadRefused("upload_missing")
    if len(data) > max_bytes:
        raise UploadRefused("upload_too_large")
    if data.startswith(b"%PDF-"):
        return _clean_pdf(data)
    return _clean_image(data)


def _clean_image(data: bytes) -> CleanDocument:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=IMAGE_FORMATS) as opened:
                kind = opened.format
                opened.load()
                upright = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused("upload_type") from None
    except (OSError, ValueError, SyntaxError):
        raise UploadRefused("upload_unreadable") from None
    if kind == "JPEG":
        pixels = upright.convert("RGB")
        media_type, save_as = JPEG, "JPEG"
    else:
        alpha = "A" in upright.getbands() or upright.mode == "P"
        pixels = upright.convert("RGBA" if alpha else "RGB")
        media_type, save_as = PNG, "PNG"
    # only the pixels: a new image has no info, EXIF, ICC profile or text of the original
    bare = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = BytesIO()
    bare.save(out, format=save_as, **({"quality": 90} if save_as == "JPEG" else {}))
    return CleanDocument(media_type, out.getvalue(), 1)


def _clean_pdf(data: bytes) -> CleanDocument:
    try:
        with pikepdf.open(BytesIO(data)) as pdf:
            pages = len(pdf.pages)
            if pages == 0:
                raise UploadRefused("upload_unreadable")
            _strip(pdf)
            out = BytesIO()
            pdf.save(out, fix_metadata_version=False, deterministic_id=True)
    except pikepdf.PasswordError:
        raise UploadRefused("upload_unreadable") from None
    except (pikepdf.PdfError, ValueError):
        raise UploadRefused("upload_unreadable") from None
    return CleanDocument(PDF, out.getvalue(), pages)


#: What the document catalog keeps: its pages and how they are labelled, read and tagged.
#: Everything else (OpenAction, AA, Names with JavaScript and EmbeddedFiles, AF, AcroForm
#: with XFA, Outlines with actions, URI, Metadata, ...) is dropped.
_ROOT_KEPT = frozenset({"/Type", "/Pages", "/PageLabels", "/Lang", "/MarkInfo", "/StructTreeRoot"})


def _strip(pdf: pikepdf.Pdf) -> None:
    """Remove what can act or hide: actions, scripts, attached files, form scripts, metadata."""
    root = pdf.Root
    for key in list(root.keys()):
        if key not in _ROOT_KEPT:
            del root[key]
    for page in pdf.pages:
        for key in ("/AA", "/AF", "/Metadata"):
            if key in page.obj:
                del page.obj[key]
        if "/Annots" not in page.obj:
            continue
        kept = pikepdf.Array()
        for annot in page.obj.Annots:
            subtype = str(annot.get("/Subtype", ""))
            acts = any(key in annot for key in ("/A", "/AA", "/AF", "/FS"))
            if acts or subtype in _DROPPED_ANNOTATIONS:
                continue
            kept.append(annot)
        page.obj.Annots = kept
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
