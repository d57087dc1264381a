"""Notices as PDFs, rendered from `domain.notices.Notice` in the requester's language."""

from letters.render import LetterError, render_notice

__all__ = ["LetterError", "render_notice"]
