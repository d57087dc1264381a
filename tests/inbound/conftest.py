"""Fixtures of the inbound-document tests: the web tests' own database, Temporal test server,
worker (which registers the reading activity) and app, and a generated fax scan or two."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from functools import lru_cache

import pytest

from activities.ocr import tools_missing
from bench.scans import ScanTruth, scan
from tests.web.conftest import (  # noqa: F401  (the web tests' fixtures, for this package)
    staff,
    web_app,
    web_db,
    web_env,
    web_settings,
    web_worker,
)


def _ocr_missing() -> list[str]:
    """The OCR programs and Tesseract languages this machine lacks."""
    missing = tools_missing()
    if "tesseract" not in missing:
        listed = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, check=False
        ).stdout.split()
        missing += [f"tesseract-ocr-{lang}" for lang in ("eng", "spa", "ara") if lang not in listed]
    return missing


#: Tests that run Tesseract skip, naming what is missing, where the Debian packages are not.
needs_ocr = pytest.mark.skipif(
    bool(_ocr_missing()),
    reason=f"OCR tools missing: {', '.join(_ocr_missing())} "
    "(apt-get install ocrmypdf tesseract-ocr tesseract-ocr-spa tesseract-ocr-ara poppler-utils)",
)


def complete_truth(language: str = "en", fmt: str = "tiff") -> ScanTruth:
    """A filled-in authorization with every element (synthetic values)."""
    today = date.today()
    return ScanTruth(
        name=f"flow-{language}-{fmt}",
        format=fmt,
        language=language,
        site="minnesota",
        patient_first_name="Avery",
        patient_last_name="Testwell",
        date_of_birth="1984-03-14",
        mrn="12-345-678",
        patient_contact="100 Elm St, Rochester MN 55901, 507-555-0100",
        recipient_name="Northfield Law Group",
        recipient_contact="200 Cedar Ave, Rochester MN 55902",
        delivery_method="us_mail",
        info_all=True,
        date_from="2024-01-02",
        date_to="2024-06-30",
        purpose_other="legal claim",
        expiration_date=(today + timedelta(days=365)).isoformat(),
        signature="Avery Testwell",
        signature_date=(today - timedelta(days=2)).isoformat(),
    )


@lru_cache(maxsize=8)
def scan_of(language: str = "en", fmt: str = "tiff") -> bytes:
    """The complete authorization, faxed (made once per language and format)."""
    return scan(complete_truth(language, fmt))
