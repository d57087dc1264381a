"""Field messages a person understands: every pydantic error type staff can meet, as one plain
sentence, in one place. Staff forms never show a validator's own text ("Input should be a valid
date"); the rules' own messages (domain/) are already written for people and pass through.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain.errors import FieldIssue, issue

_DATE = "Use a date like 2026-12-31."
_WHEN = "Use a date and time with its time zone, like 2026-12-31T09:30:00-06:00."
_REQUIRED = "This is required."

#: pydantic error type -> a sentence (placeholders from the error's context, when it has one).
PLAIN: dict[str, str] = {
    "missing": _REQUIRED,
    "string_too_short": _REQUIRED,
    "string_too_long": "This is too long: at most {max_length} characters.",
    "string_type": "Write this as text.",
    "string_pattern_mismatch": "This is not in the expected form.",
    "string_unicode": "This contains characters that cannot be stored.",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "date_past": "The date must be in the past.",
    "date_future": "The date must be in the future.",
    "datetime_type": _WHEN,
    "datetime_parsing": _WHEN,
    "datetime_from_date_parsing": _WHEN,
    "datetime_object_invalid": _WHEN,
    "timezone_aware": _WHEN,
    "enum": "Choose one of the listed options.",
    "literal_error": "Choose one of the listed options.",
    "bool_type": "Answer yes or no.",
    "bool_parsing": "Answer yes or no.",
    "int_type": "Give a whole number.",
    "int_parsing": "Give a whole number.",
    "int_from_float": "Give a whole number.",
    "float_type": "Give a number.",
    "float_parsing": "Give a number.",
    "decimal_type": "Give a number.",
    "decimal_parsing": "Give a number.",
    "greater_than": "Give a number above {gt}.",
    "greater_than_equal": "Give a number of at least {ge}.",
    "less_than": "Give a number below {lt}.",
    "less_than_equal": "Give a number of at most {le}.",
    "too_short": "Give at least {min_length}.",
    "too_long": "Give at most {max_length}.",
    "list_type": "Give a list here.",
    "dict_type": "Give the details here.",
    "model_type": "Give the details here.",
    "model_attributes_type": "Give the details here.",
    "extra_forbidden": "This is not part of the form; remove it.",
    "json_invalid": "This is not valid JSON: check the commas, quotes and brackets.",
    "malformed_json": "This is not valid JSON: check the commas, quotes and brackets.",
    "not_an_object": "The submission must be a set of named fields, in braces { }.",
    "url_parsing": "Give a web address like https://example.org.",
    "uuid_parsing": "This is not a valid identifier.",
}


#: how our own sentences begin (the part before any placeholder)
_OURS = frozenset(t.split("{")[0] for t in {_REQUIRED, *PLAIN.values()})


def sentence(code: str, message: str, ctx: dict[str, Any] | None = None) -> str:
    """The plain sentence for an error type, or the rule's own message."""
    template = PLAIN.get(code)
    if template is None:
        return message.removeprefix("Value error, ")  # a rule's own words (domain/)
    try:
        return template.format(**(ctx or {}))
    except (KeyError, IndexError, ValueError):
        return template.split(":")[0].rstrip(".") + "."


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def from_validation_error(error: ValidationError, prefix: str = "") -> list[FieldIssue]:
    """A pydantic error as plain field issues (never the submitted input)."""
    found = []
    for err in error.errors(include_url=False):
        # an empty form field arrives as None: say it is required, not that it is of a type
        # (the input itself is only looked at, never put in a message)
        empty = err["type"].endswith("_type") and err.get("input") is None
        message = _REQUIRED if empty else sentence(err["type"], err["msg"], err.get("ctx"))
        found.append(issue(prefix + _field(err["loc"]), err["type"], message))
    return found


def plain(found: FieldIssue) -> FieldIssue:
    """An issue from anywhere (a stored intake error, a workflow refusal) in plain words."""
    if found.code not in PLAIN or any(found.message.startswith(t) for t in _OURS):
        return found  # already plain words (ours, or a rule's own)
    return found.model_copy(update={"message": sentence(found.code, found.message)})


def field_label(name: str) -> str:
    """`patient.date_of_birth` -> `Patient › date of birth` (list positions count from 1)."""
    parts = []
    for part in name.split("."):
        parts.append(f"#{int(part) + 1}" if part.isdigit() else part.replace("_", " "))
    text = " › ".join(parts)
    return text[:1].upper() + text[1:]


def plain_issues(issues: list[FieldIssue]) -> list[tuple[str, str]]:
    """(field in words, plain sentence) for a list of issues."""
    return [(field_label(i.field), plain(i).message) for i in issues]
