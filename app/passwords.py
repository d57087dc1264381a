"""What makes a staff password acceptable (ASVS 2.1): long enough, not a common password,
and not guessable by zxcvbn's estimate. Each refusal is one plain sentence for the field.

The common passwords (app/common_passwords.txt) are the 10,000 most frequent ones of the list
zxcvbn ships; a password is refused when it is one of them, or one of them with digits and
symbols around it ("Password123!"), or spells the person's own username.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
#: zxcvbn's score from 0 (too guessable) to 4 (very unguessable); 3 is "safely unguessable"
MIN_SCORE = 3

_LIST = Path(__file__).with_name("common_passwords.txt")
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower case."""
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """One of the common passwords, as is or with digits and symbols added around it."""
    lowered = password.strip().lower()
    common = common_passwords()
    return lowered in common or _DECORATION.sub("", lowered) in common


def password_problem(password: str, *, username: str | None = None) -> str | None:
    """Why this new password is not acceptable, as one plain sentence (None: it is)."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if is_common(password):
        return "This is one of the most common passwords. Choose one nobody else would."
    lowered = password.lower()
    if username and len(username) >= 3 and username.lower() in lowered:
        return "Do not use your username in your password."
    inputs = [username] if username else []
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < MIN_SCORE:
        return (
            "This password is too easy to guess. Use a few unrelated words, or a longer "
            "phrase only you would think of."
        )
    return None
