"""The second factor of staff sign-in: TOTP (RFC 6238, any authenticator app) and single-use
recovery codes.

- The TOTP secret is stored sealed (AES-256-GCM, a key derived with HKDF from the payload keys,
  ROI_PAYLOAD_KEYS; the account id is the associated data, so a sealed secret cannot be moved
  to another account). It is shown once, while the person sets up their authenticator, as a QR
  code we draw ourselves (segno, inline SVG: no third party sees it) and as text.
- A code works once: the time step of the last accepted code is kept, and only a later one is
  accepted (one step of clock drift either way is allowed).
- Ten recovery codes (80 random bits each) are shown once at enrolment; only their SHA-256 is
  kept, and each one works once.
Nothing here logs or records a secret, a code or a recovery code.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
import time
from datetime import UTC, datetime

import pyotp
import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session

from config.codec import parse_keys
from store import mfa as rows
from store.web_models import StaffMfa

ISSUER = "ROI staff"
RECOVERY_CODES = 10
_STEP = 30
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _key(raw: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"roi-staff-totp-v1").derive(
        raw
    )


def seal(secret: str, user_id: str, payload_keys: str | None) -> str:
    """The secret encrypted under the current key: `key-id:base64(nonce + ciphertext)`."""
    current, keys = parse_keys(payload_keys)
    nonce = os.urandom(12)
    sealed = AESGCM(_key(keys[current])).encrypt(nonce, secret.encode(), user_id.encode())
    return f"{current}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(sealed: str, user_id: str, payload_keys: str | None) -> str:
    """The secret (any configured key opens it: rotation)."""
    key_id, _, blob = sealed.partition(":")
    _, keys = parse_keys(payload_keys)
    raw = base64.b64decode(blob)
    return AESGCM(_key(keys[key_id])).decrypt(raw[:12], raw[12:], user_id.encode()).decode()


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (drawn here; nothing leaves the server)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    return out.getvalue().decode()


def _step(at: float) -> int:
    return int(at // _STEP)


def matching_step(
    secret: str, code: str, last_step: int | None, at: float | None = None
) -> int | None:
    """The time step the code belongs to (now, or one step either side), if it is later than
    the last one accepted; else None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        step = _step(now) + offset
        if secrets.compare_digest(totp.at(step * _STEP), code) and (
            last_step is None or step > last_step
        ):
            return step
    return None


def recovery_hash(code: str) -> str:
    import hashlib

    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(f"roi-recovery:{normal}".encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    """Ten codes like `k7qm-3xtd-p9fa-w2hc` (80 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def looks_like_recovery_code(code: str) -> bool:
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return len(normal) == 16 and all(c in _ALPHABET for c in normal)


# ---- the account's factor (rows: store/mfa.py) ----------------------------------------------


def state(session: Session, user_id: str, *, lock: bool = False) -> StaffMfa | None:
    """The account's second factor, if it has one (confirmed or still being set up)."""
    return rows.factor(session, user_id, lock=lock)


def start_setup(session: Session, user_id: str, payload_keys: str | None) -> str:
    """The secret of an unconfirmed setup (a new one when there is none); raises when the
    account already has a confirmed second factor (it is replaced only after a reset)."""
    existing = state(session, user_id, lock=True)
    if existing is not None:
        if existing.confirmed_at is not None:
            raise ValueError("already enrolled")
        return unseal(existing.sealed_secret, user_id, payload_keys)
    secret = new_secret()
    rows.add_factor(session, user_id, seal(secret, user_id, payload_keys), datetime.now(UTC))
    return secret


def confirm_setup(
    session: Session, user_id: str, code: str, payload_keys: str | None
) -> list[str] | None:
    """Confirm the pending setup with a code from the authenticator: the new recovery codes
    (show them once), or None when the code is wrong."""
    row = state(session, user_id, lock=True)
    if row is None or row.confirmed_at is not None:
        return None
    step = matching_step(unseal(row.sealed_secret, user_id, payload_keys), code, row.last_step)
    if step is None:
        return None
    now = datetime.now(UTC)
    rows.accept_step(session, user_id, step, confirmed_at=now)
    return replace_recovery_codes(session, user_id, now)


def replace_recovery_codes(session: Session, user_id: str, now: datetime) -> list[str]:
    """Ten new recovery codes (show them once; only their hashes are kept)."""
    codes = new_recovery_codes()
    rows.replace_recovery_codes(session, user_id, [recovery_hash(c) for c in codes], now)
    return codes


def verify(session: Session, user_id: str, code: str, payload_keys: str | None) -> str | None:
    """Check a sign-in's second factor: "totp" or "recovery_code" when it is right (and now
    used up), None when not."""
    row = state(session, user_id, lock=True)
    if row is None or row.confirmed_at is None:
        return None
    if looks_like_recovery_code(code):
        used = rows.use_recovery_code(session, user_id, recovery_hash(code), datetime.now(UTC))
        return "recovery_code" if used else None
    step = matching_step(unseal(row.sealed_secret, user_id, payload_keys), code, row.last_step)
    if step is None:
        return None
    rows.accept_step(session, user_id, step)
    return "totp"


def recovery_codes_left(session: Session, user_id: str) -> int:
    return rows.recovery_codes_left(session, user_id)


def forget(session: Session, user_id: str) -> None:
    """Drop the account's second factor and recovery codes (an admin's reset)."""
    rows.forget(session, user_id)


def enrol_known_secret(
    session: Session, user_id: str, secret: str, payload_keys: str | None
) -> None:
    """ROI_ENV local/test only (app/accounts.enrol_locally): a confirmed second factor with a
    secret the demo prints or the tests compute codes from."""
    forget(session, user_id)
    now = datetime.now(UTC)
    rows.add_factor(session, user_id, seal(secret, user_id, payload_keys), now, confirmed_at=now)
