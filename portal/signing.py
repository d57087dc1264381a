"""The e-signed authorization as a sealed PDF (ESIGN/UETA evidence, PAdES seal).

What the patient filled in, in their language, then a signature page: the drawn signature (a
PNG re-encoded by Pillow, never the bytes as posted), the typed name, the time (UTC), the email
address proven with a one-time code, the client's address, and the consent to sign
electronically. The PDF is then sealed with pyHanko (a PAdES baseline signature with the
hospital's key, ROI_PORTAL_SIGNING_KEY_PATH and _CERT_PATH), so any change to a byte shows
when the signature is validated. In ROI_ENV=local/test a self-signed demo certificate is made
in memory; elsewhere the portal refuses to start without the real one (config/production.py).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from io import BytesIO

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from config.production import DEMO_ENVIRONMENTS
from config.settings import Settings
from letters.fonts import register_fonts
from letters.layout import wrap
from letters.page import Painter

#: The largest drawn signature accepted (the data URL's PNG, before re-encoding).
MAX_SIGNATURE_BYTES = 200_000
#: The largest drawn signature's pixels (a canvas is about 600 x 200).
MAX_SIGNATURE_PIXELS = 2000 * 800
_PNG_PREFIX = "data:image/png;base64,"


class BadSignatureImage(ValueError):
    """The drawn signature is not a PNG we accept (too big, not a PNG, not an image)."""


def signature_png(data_url: str | None) -> bytes | None:
    """The drawn signature re-encoded by Pillow (None: nothing drawn). Only a PNG data URL
    under the size limits is read; what comes out is a fresh PNG, never the posted bytes."""
    if not data_url:
        return None
    if not data_url.startswith(_PNG_PREFIX):
        raise BadSignatureImage("not a PNG data URL")
    encoded = data_url[len(_PNG_PREFIX) :]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise BadSignatureImage("too large")
    try:
        raw = base64.b64decode(encoded, validate=True)
        with Image.open(BytesIO(raw)) as image:
            if image.format != "PNG":
                raise BadSignatureImage("not a PNG")
            if image.width * image.height > MAX_SIGNATURE_PIXELS:
                raise BadSignatureImage("too many pixels")
            image.load()
            clean = Image.new("RGB", image.size, "white")
            rgba = image.convert("RGBA")
            clean.paste(rgba, mask=rgba.getchannel("A"))
    except (binascii.Error, UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise BadSignatureImage("unreadable") from err
    out = BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


@dataclass(frozen=True)
class Evidence:
    """What shows who signed, how and when (ESIGN/UETA): kept on the signature page."""

    typed_name: str
    drawn_png: bytes | None
    signed_at: datetime
    verified_email: str
    client_address: str


@dataclass(frozen=True)
class Section:
    """A heading and its (label, value) lines, already in the patient's language."""

    heading: str
    lines: list[tuple[str, str]]


@dataclass(frozen=True)
class SignaturePageText:
    """The signature page's words, in the patient's language."""

    heading: str
    typed_name: str
    drawn: str
    not_drawn: str
    signed_at: str
    email: str
    address: str
    consent: str


_MARGIN = 54.0
_WIDTH, _HEIGHT = LETTER


class _Writer:
    """Lines top to bottom, in either direction, a new page when one is full."""

    def __init__(self, canvas: Canvas, rtl: bool) -> None:
        self.c = canvas
        self.p = Painter(canvas)
        self.rtl = rtl
        self.y = _HEIGHT - _MARGIN

    def _room(self, needed: float) -> None:
        if self.y - needed < _MARGIN:
            self.c.showPage()
            self.p.font = None
            self.y = _HEIGHT - _MARGIN

    def text(self, value: str, size: float = 10.5, bold: bool = False, gap: float = 4) -> None:
        width = _WIDTH - 2 * _MARGIN
        for paragraph in value.splitlines() or [""]:
            for line in wrap(paragraph, width, size, self.rtl) or [""]:
                self._room(size * 1.4)
                self.y -= size * 1.4
                x = _WIDTH - _MARGIN if self.rtl else _MARGIN
                self.p.line(x, self.y, line, size, self.rtl, bold=bold)
        self.y -= gap

    def image(self, png: bytes, height: float = 90) -> None:
        reader = ImageReader(BytesIO(png))
        w, h = reader.getSize()
        width = min(_WIDTH - 2 * _MARGIN, height * w / max(h, 1))
        self._room(height + 8)
        self.y -= height + 4
        x = _WIDTH - _MARGIN - width if self.rtl else _MARGIN
        self.c.drawImage(reader, x, self.y, width=width, height=height * 1.0)
        self.y -= 6


def authorization_pdf(
    title: str,
    sections: list[Section],
    evidence: Evidence,
    words: SignaturePageText,
    *,
    rtl: bool,
) -> bytes:
    """The authorization as filled in, then its signature page (not yet sealed)."""
    register_fonts()
    out = BytesIO()
    canvas = Canvas(out, pagesize=LETTER, invariant=True)
    canvas.setTitle("Authorization to release health information")
    w = _Writer(canvas, rtl)
    w.text(title, size=15, bold=True, gap=10)
    for section in sections:
        w.text(section.heading, size=12, bold=True, gap=2)
        for label, value in section.lines:
            w.text(label, size=9, gap=0)
            w.text(value or "—", size=10.5, gap=6)
        w.y -= 6
    canvas.showPage()
    w.p.font = None
    w.y = _HEIGHT - _MARGIN
    w.text(words.heading, size=14, bold=True, gap=10)
    if evidence.drawn_png:
        w.text(words.drawn, size=9, gap=2)
        w.image(evidence.drawn_png)
    else:
        w.text(words.not_drawn, size=9, gap=6)
    for label, value in (
        (words.typed_name, evidence.typed_name),
        (words.signed_at, evidence.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
        (words.email, evidence.verified_email),
        (words.address, evidence.client_address),
    ):
        w.text(label, size=9, gap=0)
        w.text(value, size=11, gap=6)
    w.text(words.consent, size=10, gap=4)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


@dataclass(frozen=True)
class SealingKey:
    """The key and certificate chain that seal signed authorizations."""

    key: asn1_keys.PrivateKeyInfo
    cert: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]

    def signer(self) -> signers.SimpleSigner:
        """pyHanko's signer for this key."""
        return signers.SimpleSigner(
            signing_cert=self.cert,
            signing_key=self.key,
            cert_registry=SimpleCertificateStore.from_certs([self.cert, *self.chain]),
        )


def _demo_key() -> SealingKey:
    """A self-signed certificate made in memory (local/test only: refused elsewhere)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ROI engine demo (not for patients)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Demo authorization seal"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(private, hashes.SHA256())
    )
    der_key = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SealingKey(
        asn1_keys.PrivateKeyInfo.load(der_key),
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        (),
    )


def _pem_certs(data: bytes) -> list[asn1_x509.Certificate]:
    return [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
        for c in x509.load_pem_x509_certificates(data)
    ]


@cache
def _demo() -> SealingKey:
    return _demo_key()


def sealing_key(settings: Settings) -> SealingKey:
    """The hospital's key from its files; in local/test without them, the demo key (made once
    per process). Outside local/test the portal never starts without the files."""
    key_path, cert_path = settings.portal_signing_key_path, settings.portal_signing_cert_path
    if key_path is None or cert_path is None:
        if settings.env not in DEMO_ENVIRONMENTS:
            raise RuntimeError("ROI_PORTAL_SIGNING_KEY_PATH and _CERT_PATH must be set")
        return _demo()
    private = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    der_key = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    certs = _pem_certs(cert_path.read_bytes())
    return SealingKey(asn1_keys.PrivateKeyInfo.load(der_key), certs[0], tuple(certs[1:]))


def seal(pdf: bytes, key: SealingKey) -> bytes:
    """The PDF with a PAdES baseline signature over every byte (an incremental update).
    Blocking, and it runs pyHanko's own event loop: call it from a worker thread."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name="PatientAuthorizationSeal",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Electronically signed authorization, sealed on receipt",
        md_algorithm="sha256",
    )
    out = signers.sign_pdf(writer, meta, signer=key.signer())
    return out.getvalue()
