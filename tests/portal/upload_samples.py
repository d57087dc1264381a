"""Files the upload tests send: a photo with EXIF GPS, a PDF that runs JavaScript when it is
opened, an HTML page and a zip named like PDFs."""

from __future__ import annotations

import io
import zipfile

import pikepdf
from PIL import Image


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF holds a camera make and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (44.0, 1.0, 22.0), 3: "W", 4: (92.0, 27.0, 59.0)}  # GPSInfo
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    """A one-page PDF with an OpenAction that runs JavaScript, a page action, an annotation
    with a JavaScript action, an embedded file and document metadata."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    pdf.Root.OpenAction = pdf.make_indirect(script)
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=pdf.make_indirect(script))
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[0, 0, 100, 100],
        A=pdf.make_indirect(script),
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ not really")
    pdf.docinfo["/Author"] = "Someone"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def html_named_pdf() -> bytes:
    return b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def zip_named_pdf() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", "hello")
    return out.getvalue()


def small_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
