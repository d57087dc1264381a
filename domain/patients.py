"""A stable, opaque key for "the same patient" across requests (deceased, amendments, accounting).

Name and date of birth, normalized and hashed: the MRN is optional on several forms, so it
cannot be the key. The key is stored, never logged; it is not reversible without guessing.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def patient_key(first_name: str, last_name: str, date_of_birth: date) -> str:
    """Opaque key for a patient by name and date of birth."""
    basis = f"{_norm(last_name)}|{_norm(first_name)}|{date_of_birth.isoformat()}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]
