"""Minimal English renderer (placeholder until the multilingual letters land)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from domain.notices import Notice


class LetterError(ValueError):
    """A notice that cannot be rendered (missing field, unknown language, overlong address)."""


def render_notice(notice: Notice) -> bytes:
    """The notice as PDF bytes."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    pdf.setTitle(f"{notice.kind.value} {notice.tracking_number}")
    y = 720
    for line in [
        f"Notice: {notice.kind.value}",
        f"Tracking number: {notice.tracking_number}",
        f"Date: {notice.issued_on.isoformat()}",
        notice.recipient_name,
        *notice.recipient_address,
        *[d.message for d in notice.deficiencies],
    ]:
        pdf.drawString(72, y, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
