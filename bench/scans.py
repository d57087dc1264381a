"""Synthetic scans of the project's own blank authorization form, filled in and faxed.

Each scan is the form `letters.render_authorization_form` prints (English or Spanish), filled
with synthetic values (a reportlab overlay merged with pypdf at the positions of the form's own
labels), rasterised at fax resolution (204 x 196 dpi, pdftoppm), skewed, speckled and reduced
to black and white with Pillow, and saved as a multi-page TIFF (Group 4, as fax gateways send)
or a PDF. Some are deficient on purpose (no signature, no expiration, no purpose, the second
page lost in transmission) so the detector has absent elements to find absent. The values it
filled in are returned as a `ScanTruth`, which the benchmark scores the reading against.

    .venv/bin/python bench/scans.py --count 60 --out /tmp/scans   # writes the files and truth.json

Everything here is synthetic: no real person's data is used or produced.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageFilter
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

from domain.types import Site
from letters import render_authorization_form
from letters.catalog import catalog_for

#: Fax resolution ("fine" mode): 204 dpi across, 196 dpi down.
FAX_DPI = (204, 196)

_FIRST = ["Avery", "Jordan", "Rosa", "Tomas", "Lucia", "Marcus", "Elena", "Dario", "Nora"]
_FIRST += ["Felix", "Ingrid", "Pablo", "Carmen", "Oscar", "Hazel", "Ramon", "Greta", "Ivan"]
_LAST = ["Testwell", "Samplar", "Fictora", "Mockridge", "Demoson", "Placido", "Synthera"]
_LAST += ["Quillfeather", "Ventana", "Marlowe", "Castellan", "Brightwater", "Ostrander"]
_ORGS = [
    "Northfield Law Group",
    "Lakeside Insurance Co",
    "Prairie Family Clinic",
    "Summit Disability Services",
    "Riverbend Attorneys LLP",
    "Oakview Medical Center",
]
_ORGS_ES = ["Bufete Legal Solano", "Seguros del Valle", "Clinica Familiar Norte"]
_STREETS = ["Elm St", "Cedar Ave", "Maple Rd", "Birch Ln", "Pine Ct", "Aspen Way"]
_CITIES = [("Rochester", "MN", "559"), ("Phoenix", "AZ", "850"), ("Jacksonville", "FL", "322")]
_TYPES = [
    "office notes and test results",
    "discharge summary and imaging reports",
    "lab results",
    "operative report",
]
_TYPES_ES = ["notas de consulta y resultados", "resumen de alta", "resultados de laboratorio"]
_PURPOSES = ["legal claim", "insurance review", "disability claim", "continuing care"]
_PURPOSES_ES = ["reclamo legal", "revision del seguro", "atencion continua"]
_EVENTS = ["end of the legal case", "one year after signing", "when the claim closes"]
_EVENTS_ES = ["fin del caso legal", "un ano despues de firmar"]


@dataclass
class ScanTruth:
    """What was written on one scan: the benchmark's answer key."""

    name: str
    format: str  # tiff or pdf
    language: str  # en or es
    site: str
    kind: str = "third_party"
    patient_first_name: str = ""
    patient_last_name: str = ""
    date_of_birth: str = ""  # ISO
    mrn: str | None = None
    patient_contact: str = ""
    recipient_name: str = ""
    recipient_contact: str = ""
    delivery_method: str = "us_mail"
    info_all: bool = False
    info_types: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    purpose_self: bool = False
    purpose_other: str | None = None
    expiration_date: str | None = None
    expiration_event: str | None = None
    signature: str | None = None  # the signer's name as signed
    signature_date: str | None = None
    representative_name: str | None = None
    representative_authority: str | None = None
    second_page: bool = True  # False: lost in transmission
    elements: dict[str, bool] = field(default_factory=dict)

    def expected_fields(self) -> dict[str, str | None]:
        """The fields the benchmark scores, as the extractor should read them (None: blank)."""
        purpose = "at the request of the individual" if self.purpose_self else self.purpose_other
        expiration = self.expiration_date or self.expiration_event
        return {
            "kind": self.kind,
            "patient.first_name": self.patient_first_name,
            "patient.last_name": self.patient_last_name,
            "patient.date_of_birth": self.date_of_birth,
            "patient.mrn": self.mrn,
            "requester.name": self.recipient_name,
            "delivery_method": self.delivery_method,
            "records.date_from": self.date_from,
            "records.date_to": self.date_to,
            "authorization.purpose": purpose.lower() if purpose else None,
            "authorization.expiration": expiration.lower() if expiration else None,
            "authorization.signature_date": self.signature_date if self.second_page else None,
        }


def _fmt(day: date, language: str) -> str:
    """A date as a person writes it on the form: month first in English, day first in Spanish."""
    return day.strftime("%m/%d/%Y") if language == "en" else day.strftime("%d/%m/%Y")


def make_truth(index: int, rng: random.Random, today: date) -> ScanTruth:
    """Synthetic values for one scan; about one in five deficient in some way."""
    language = "es" if index % 4 == 3 else "en"
    es = language == "es"
    site = list(Site)[index % len(Site)].value
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    dob = date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28))
    city, state, zip3 = rng.choice(_CITIES)
    number = rng.randint(100, 9899)
    contact = f"{number} {rng.choice(_STREETS)}, {city} {state} {zip3}{rng.randint(10, 99)}"
    recipient = rng.choice(_ORGS_ES if es else _ORGS)
    by_email = rng.random() < 0.5
    handle = recipient.split()[0].lower()
    recipient_contact = (
        f"records@{handle}.example"
        if by_email
        else f"{rng.randint(10, 999)} {rng.choice(_STREETS)}, {city} {state} {zip3}01"
    )
    truth = ScanTruth(
        name=f"scan-{index:03d}",
        format="tiff" if index % 2 == 0 else "pdf",
        language=language,
        site=site,
        patient_first_name=first,
        patient_last_name=last,
        date_of_birth=dob.isoformat(),
        mrn=f"{rng.randint(10, 99)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}"
        if rng.random() < 0.7
        else None,
        patient_contact=f"{contact}, 507-555-{rng.randint(1000, 9999)}",
        recipient_name=recipient,
        recipient_contact=recipient_contact,
        delivery_method="email_link" if by_email else "us_mail",
    )
    start = today - timedelta(days=rng.randint(200, 2000))
    if rng.random() < 0.5:
        truth.info_all = True
    else:
        truth.info_types = rng.choice(_TYPES_ES if es else _TYPES)
    truth.date_from = start.isoformat()
    truth.date_to = (start + timedelta(days=rng.randint(30, 180))).isoformat()
    deficient = rng.random() < 0.25
    flaw = rng.choice(["purpose", "expiration", "signature", "page"]) if deficient else None
    if flaw != "purpose":
        if rng.random() < 0.5:
            truth.purpose_self = True
        else:
            truth.purpose_other = rng.choice(_PURPOSES_ES if es else _PURPOSES)
    if flaw != "expiration":
        if rng.random() < 0.6:
            truth.expiration_date = (today + timedelta(days=rng.randint(90, 700))).isoformat()
        else:
            truth.expiration_event = rng.choice(_EVENTS_ES if es else _EVENTS)
    signed_on = today - timedelta(days=rng.randint(0, 20))
    if flaw != "signature":
        truth.signature = f"{first} {last}"
        truth.signature_date = signed_on.isoformat()
    if flaw == "page":
        truth.second_page = False
    page2 = truth.second_page
    truth.elements = {
        "information_description": True,
        "disclosing_party": True,
        "recipient": True,
        "purpose": flaw != "purpose",
        "expiration": flaw != "expiration",
        "signature": page2 and truth.signature is not None,
        "signature_date": page2 and truth.signature_date is not None,
        "statement_right_to_revoke": page2,
        "statement_conditioning": page2,
        "statement_redisclosure": page2,
    }
    return truth


def _label_positions(pdf: bytes) -> list[dict[int, tuple[str, float, float, float]]]:
    """Per page: the text runs the form drew, keyed by their order, with x, y and font size."""
    pages: list[dict[int, tuple[str, float, float, float]]] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        runs: dict[int, tuple[str, float, float, float]] = {}

        def visit(
            text: str,
            cm: object,
            tm: list[float],
            font: object,
            size: float,
            runs: dict[int, tuple[str, float, float, float]] = runs,
        ) -> None:
            if text.strip():
                runs[len(runs)] = (text.strip(), tm[4], tm[5], size or 10.0)

        page.extract_text(visitor_text=visit)  # type: ignore[arg-type]
        pages.append(runs)
    return pages


def _find(
    pages: list[dict[int, tuple[str, float, float, float]]], label: str
) -> tuple[int, float, float, float]:
    wanted = label.strip().rstrip(":").strip()
    for number, runs in enumerate(pages):
        for text, x, y, size in runs.values():
            if text.startswith(wanted[: min(len(wanted), 40)]):
                return number, x, y, size
    raise LookupError(f"label not on the form: {wanted[:30]}")


def fill(truth: ScanTruth) -> bytes:
    """The blank form in the scan's language with the truth's values written in (a PDF)."""
    blank = render_authorization_form(truth.language, truth.site)
    pages = _label_positions(blank)
    catalog = catalog_for(truth.language)
    overlays = [io.BytesIO() for _ in pages]
    canvases = [Canvas(buf, pagesize=LETTER) for buf in overlays]

    def write(key: str, value: str | None, **params: str) -> None:
        if not value:
            return
        label = catalog.text(f"form.{key}", **params) if params else catalog.text(f"form.{key}")
        number, x, y, size = _find(pages, label)
        canvas = canvases[number]
        canvas.setFont("Helvetica", size)
        width = canvas.stringWidth(label.strip(), "Helvetica", size)
        canvas.setFont("Courier-Bold", 11)
        canvas.drawString(x + width + 14, y + 1, value)

    def tick(key: str, checked: bool) -> None:
        if not checked:
            return
        number, x, y, _ = _find(pages, catalog.text(f"form.{key}"))
        canvas = canvases[number]
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawString(x - 13, y, "X")

    lang = truth.language
    write("patient_name", f"{truth.patient_first_name} {truth.patient_last_name}")
    write("patient_dob", _fmt(date.fromisoformat(truth.date_of_birth), lang))
    write("patient_mrn", truth.mrn)
    write("patient_contact", truth.patient_contact)
    write("recipient_name", truth.recipient_name)
    write("recipient_address", truth.recipient_contact)
    tick("info_all", truth.info_all)
    tick("info_types", truth.info_types is not None)
    if truth.info_types:
        number, x, y, _ = _find(pages, catalog.text("form.info_types"))
        canvases[number].setFont("Courier-Bold", 11)
        canvases[number].drawString(x + 12, y - 11, truth.info_types)
    if truth.date_from and truth.date_to:
        span = (
            f"{_fmt(date.fromisoformat(truth.date_from), lang)} - "
            f"{_fmt(date.fromisoformat(truth.date_to), lang)}"
        )
        write("info_dates", span)
    tick("purpose_self", truth.purpose_self)
    tick("purpose_other", truth.purpose_other is not None)
    write("purpose_other", truth.purpose_other)
    expiry = truth.expiration_event
    if truth.expiration_date:
        expiry = _fmt(date.fromisoformat(truth.expiration_date), lang)
    write("expiry", expiry)
    if truth.signature:
        number, x, y, size = _find(pages, catalog.text("form.signature"))
        canvas = canvases[number]
        width = canvas.stringWidth(catalog.text("form.signature"), "Helvetica", size)
        canvas.setFont("Times-Italic", 14)
        canvas.drawString(x + width + 14, y + 1, truth.signature)
    if truth.signature_date:
        write("signature_date", _fmt(date.fromisoformat(truth.signature_date), lang))
    write("representative_name", truth.representative_name)
    write("representative_authority", truth.representative_authority)
    for canvas in canvases:
        canvas.showPage()
        canvas.save()
    writer = PdfWriter(clone_from=io.BytesIO(blank))
    for number, page in enumerate(writer.pages):
        page.merge_page(PdfReader(io.BytesIO(overlays[number].getvalue())).pages[0])
    if not truth.second_page:
        for number in range(len(writer.pages) - 1, 0, -1):
            writer.remove_page(number)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def rasterise(pdf: bytes) -> list[Image.Image]:
    """Each page at fax resolution, in grey (pdftoppm)."""
    with tempfile.TemporaryDirectory(prefix="roi-scan-") as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-gray",
                "-rx",
                str(FAX_DPI[0]),
                "-ry",
                str(FAX_DPI[1]),
                "-png",
                str(source),
                str(Path(folder) / "page"),
            ],
            check=True,
            timeout=120,
        )
        return [Image.open(p).copy() for p in sorted(Path(folder).glob("page-*.png"))]


def degrade(page: Image.Image, rng: random.Random) -> Image.Image:
    """A fax's page: a little skew, specks, a soft scan, then black and white."""
    angle = rng.uniform(-1.5, 1.5)
    skewed = page.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
    softened = skewed.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.3, 0.7)))
    pixels = softened.load()
    assert pixels is not None
    width, height = softened.size
    for _ in range(int(width * height * rng.uniform(0.0005, 0.002))):
        pixels[rng.randrange(width), rng.randrange(height)] = rng.choice((0, 255))
    return softened.point(lambda v: 255 if v > 150 else 0).convert("1")


def save(pages: list[Image.Image], fmt: str) -> bytes:
    """The pages as a fax gateway delivers them: TIFF Group 4, or PDF, at fax resolution."""
    out = io.BytesIO()
    if fmt == "tiff":
        pages[0].save(
            out,
            format="TIFF",
            save_all=True,
            append_images=pages[1:],
            compression="group4",
            dpi=FAX_DPI,
        )
    else:
        pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], dpi=FAX_DPI)
    return out.getvalue()


def scan(truth: ScanTruth, seed: int = 0) -> bytes:
    """The finished scan's bytes (TIFF or PDF, per `truth.format`)."""
    rng = random.Random(f"{truth.name}:{seed}")
    return save([degrade(p, rng) for p in rasterise(fill(truth))], truth.format)


def generate(count: int, out: Path, seed: int = 19, today: date | None = None) -> list[ScanTruth]:
    """Write `count` scans and truth.json to `out`; returns the truths."""
    today = today or date.today()
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    truths = []
    for index in range(count):
        truth = make_truth(index, rng, today)
        (out / f"{truth.name}.{truth.format}").write_bytes(scan(truth, seed))
        truths.append(truth)
    (out / "truth.json").write_text(json.dumps([asdict(t) for t in truths], indent=1))
    return truths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    truths = generate(args.count, args.out, args.seed)
    print(f"{len(truths)} scans in {args.out}")


if __name__ == "__main__":
    main()
