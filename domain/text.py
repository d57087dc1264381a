"""Text that cannot be stored: NUL characters and unpaired UTF-16 surrogates.

PostgreSQL refuses both (NUL in `text` and `jsonb`; a lone surrogate cannot be encoded as
UTF-8), so a submission or staff action carrying them would fail at the database: a 500 at
intake, or an activity that retries forever. They never belong in a name, address or note, so
they are refused up front with the field that holds them; every other character (right-to-left
marks, combining characters, emoji, any script) is kept exactly as sent.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel

from domain.errors import FieldIssue, issue

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_REPLACEMENT = "\ufffd"

INVALID_CHARACTERS = "invalid_characters"
MESSAGE = "Contains a character that cannot be stored (a NUL byte or broken Unicode); remove it."
NUMBER_OUT_OF_RANGE = "number_out_of_range"
NUMBER_MESSAGE = "This number is too large to be a real value; check it."


#: No submission nests deeper than this; a body that does is an attack, not a request.
MAX_DEPTH = 32


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes | str) -> Any:
    """Strict JSON: no NaN or Infinity (PostgreSQL's jsonb refuses them) and at most
    MAX_DEPTH levels of nesting (deeper ones would exhaust the stack); ValueError otherwise."""
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except RecursionError as error:
        raise ValueError("nested too deeply") from error
    level: list[tuple[Any, int]] = [(data, 1)]
    while level:
        value, depth = level.pop()
        if depth > MAX_DEPTH:
            raise ValueError("nested too deeply")
        if isinstance(value, dict):
            level.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            level.extend((child, depth + 1) for child in value)
    return data


def is_storable(text: str) -> bool:
    """True when PostgreSQL can store the text as it is."""
    return _UNSTORABLE.search(text) is None


def unstorable_fields(data: Any, path: str = "") -> list[FieldIssue]:
    """One issue per field (dotted path, list items by index) whose key or text is unstorable."""
    if isinstance(data, BaseModel):
        data = data.model_dump()
    found: list[FieldIssue] = []
    if isinstance(data, float) and not math.isfinite(data):
        # JSON such as 1e999999 parses to infinity, which jsonb (and every field) refuses
        found.append(issue(path or "body", NUMBER_OUT_OF_RANGE, NUMBER_MESSAGE))
    elif isinstance(data, str):
        if not is_storable(data):
            found.append(issue(path or "body", INVALID_CHARACTERS, MESSAGE))
    elif isinstance(data, dict):
        for key, value in data.items():
            name = str(key)
            child = f"{path}.{name}" if path else name
            if not is_storable(name):
                found.append(issue(path or "body", INVALID_CHARACTERS, MESSAGE))
                continue
            found.extend(unstorable_fields(value, child))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            found.extend(unstorable_fields(value, f"{path}.{index}" if path else str(index)))
    return found


def storable_copy(data: Any) -> Any:
    """The same JSON value with each unstorable character replaced by U+FFFD (and a number out
    of range by null), so a refused submission can still be kept for staff review."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, str):
        return _UNSTORABLE.sub(_REPLACEMENT, data)
    if isinstance(data, dict):
        return {storable_copy(str(k)): storable_copy(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [storable_copy(v) for v in data]
    return data


def require_storable(value: Any) -> Any:
    """A pydantic validator: refuse a value whose text (at any depth) cannot be stored."""
    if unstorable_fields(value):
        raise ValueError(MESSAGE)
    return value
