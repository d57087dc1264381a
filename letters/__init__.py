"""Notices as PDFs, rendered from `domain.notices.Notice` in the requester's language."""

from letters.errors import LetterError
from letters.render import render_authorization_form, render_notice

__all__ = ["LetterError", "render_authorization_form", "render_notice"]
