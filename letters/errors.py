"""The one error `letters/` raises: a notice that cannot be produced as a correct letter."""

from __future__ import annotations


class LetterError(ValueError):
    """A notice that cannot be rendered (missing field, unknown language, overlong address).

    Messages name fields and codes only, never the values, so they can be logged and shown
    to staff without leaking protected health information.
    """
