"""Encrypted CD: an ISO 9660 image (pycdlib) holding an AES-256 zip (pyzipper) and a README.

Documents go in as bytes (`encrypted_zip`, `iso_image`); an imaging disc's folder of files is
streamed from disk into the zip and the zip into the ISO (`encrypted_zip_of_files`,
`iso_image_to`), so memory stays flat whatever the study's size.

The password is derived from the delivery key with the link secret, so a retried build gives
the same password, and it always travels by a separate channel (email, or a letter mailed on
its own), never with the disc.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import BinaryIO

import pycdlib
import pyzipper
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from activities.channels.packet import Packet, merge_pdfs

README = """RELEASE OF INFORMATION - ENCRYPTED RECORDS DISC
Reference: {reference}

This disc holds one file, RECORDS.ZIP, encrypted with AES-256.
The password was sent to you separately (by email or in a separate letter);
it is not on this disc or in the envelope that carried it.

To open: use 7-Zip (Windows), Keka or The Unarchiver (macOS), or any tool that
supports AES-256 encrypted zip files, and enter the password when asked.

If you did not request these records, do not open the file: call the Release of
Information office and return the disc.
"""


def disc_password(secret: str, key: str) -> str:
    """A 20-character password for this delivery (stable across retries, unguessable)."""
    digest = hmac.new(secret.encode(), f"cd-password:{key}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:20]


def encrypted_zip(packet: Packet, password: str) -> bytes:
    """The records in an AES-256 zip."""
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        if packet.pdfs:
            pdf, _ = merge_pdfs([d.content for d in packet.pdfs])
            archive.writestr("records.pdf", pdf)
        for doc in packet.others:
            archive.writestr(f"images/{doc.filename}", doc.content)
    return buffer.getvalue()


def encrypted_zip_of_files(files: Iterable[tuple[Path, str]], password: str, out: BinaryIO) -> None:
    """The files (path on disk, name in the zip) in an AES-256 zip written to `out`, one file
    at a time from disk: memory stays flat whatever the total size (an imaging disc)."""
    with pyzipper.AESZipFile(
        out, "w", compression=pyzipper.ZIP_DEFLATED, compresslevel=1, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        for path, name in files:
            archive.write(path, name)


def iso_image_to(archive: Path, reference: str, out: BinaryIO) -> None:
    """`iso_image` for an archive on disk, written to `out`: pycdlib copies the zip in chunks."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, joliet=3, vol_ident="ROI_RECORDS")
    readme = README.format(reference=reference).encode()
    with archive.open("rb") as zipped:
        size = archive.stat().st_size
        iso.add_fp(zipped, size, "/RECORDS.ZIP;1", joliet_path="/records.zip")
        iso.add_fp(io.BytesIO(readme), len(readme), "/README.TXT;1", joliet_path="/README.txt")
        iso.write_fp(out)
    iso.close()


def iso_image(archive: bytes, reference: str) -> bytes:
    """An ISO 9660 (with Joliet names) image holding the archive and the README."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, joliet=3, vol_ident="ROI_RECORDS")
    readme = README.format(reference=reference).encode()
    iso.add_fp(io.BytesIO(archive), len(archive), "/RECORDS.ZIP;1", joliet_path="/records.zip")
    iso.add_fp(io.BytesIO(readme), len(readme), "/README.TXT;1", joliet_path="/README.txt")
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def disc_label(reference: str, made_on: date, hospital: str = "Release of Information") -> bytes:
    """A printable disc label: the reference and a warning, no patient details."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    cx, cy = 306, 500
    pdf.circle(cx, cy, 166)
    pdf.circle(cx, cy, 22)
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawCentredString(cx, cy + 90, hospital)
    pdf.setFont("Helvetica", 11)
    pdf.drawCentredString(cx, cy + 66, f"Reference {reference}")
    pdf.drawCentredString(cx, cy + 48, f"Made {made_on.isoformat()}")
    pdf.drawCentredString(cx, cy - 60, "CONFIDENTIAL - ENCRYPTED (AES-256)")
    pdf.drawCentredString(cx, cy - 78, "Password sent separately")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def password_letter(reference: str, password: str, made_on: date) -> bytes:
    """The password on its own sheet, mailed separately from the disc."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    pdf.setFont("Helvetica", 11)
    y = 700
    for line in [
        f"Reference {reference}    {made_on.isoformat()}",
        "",
        "The records disc we mailed you separately is encrypted.",
        f"Its password is:   {password}",
        "",
        "Keep this letter apart from the disc.",
    ]:
        pdf.drawString(72, y, line)
        y -= 18
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
