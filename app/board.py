"""The supervisors' board as drawn: the aging chart (the numbers are store/board.py's)."""

from __future__ import annotations

from store.staff import usernames

__all__ = ["aging_svg", "usernames"]


def aging_svg(aging: list[tuple[str, int, int]], width: int = 480, height: int = 260) -> str:
    """A bar chart of open requests by age band, breached part in red (inline SVG, escaped)."""
    from markupsafe import escape

    left, bottom, top = 10, 48, 22
    plot_h = height - bottom - top
    peak = max([n for _, n, _ in aging] + [1])
    slot = (width - left - 10) / max(len(aging), 1)
    bar_w = slot * 0.6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="aging-title">',
        '<title id="aging-title">Open requests by age (days since receipt); red: breached</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 5}" y2="{top + plot_h}" '
        'stroke="#555" stroke-width="1"/>',
    ]
    for i, (name, total, breached) in enumerate(aging):
        x = left + i * slot + (slot - bar_w) / 2
        h_total = plot_h * total / peak
        h_breached = plot_h * breached / peak
        y = top + plot_h - h_total
        fill = "#3b6ea8" if i < 2 else ("#c98a12" if i < 4 else "#8a5a9e")
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h_total:.1f}" '
            f'fill="{fill}"><title>{escape(name)} days: {total} open</title></rect>'
        )
        if breached:
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h_breached:.1f}" width="{bar_w:.1f}" '
                f'height="{h_breached:.1f}" fill="#c0392b"><title>{escape(name)} days: {breached} '
                "breached</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 5:.1f}" font-size="15" font-weight="700" '
            f'text-anchor="middle" fill="#222">{total}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 18:.1f}" font-size="13" '
            f'text-anchor="middle" fill="#333">{escape(name)}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 8}" font-size="13" fill="#555">'
        "Days since receipt · red = breached</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
