"""Charts drawn on the server as small inline SVG: no script, no library, printable.

Each chart is an image with a <title> and a <desc> (screen readers read them; the desc lists
the figures), one <title> per bar, and its numbers in a table next to it on the page. Every
text is escaped; only numbers computed here go into attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Colours that stay distinct in greyscale print (dark, mid, light) and for colour-blind readers.
PALETTE = ("#1f4e79", "#d08c1a", "#7fa7d1", "#b3261e", "#5b6475")


@dataclass(frozen=True)
class Series:
    """One set of bars: a name for the legend and a value per category (None: no value)."""

    name: str
    values: Sequence[float | int | None]
    color: str = PALETTE[0]


def _fmt(value: float | int | None, unit: str) -> str:
    """A figure as the table next to the chart writes it."""
    if value is None:
        return "no data"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "$":
        return f"${value:,.2f}"
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.1f}"
    else:
        text = f"{int(value):,}"
    return f"{text} {unit}" if unit else text


def _nice_peak(peak: float) -> float:
    """A round top for the axis (1, 2, 2.5 or 5 times a power of ten)."""
    if peak <= 0:
        return 1.0
    power = 10 ** len(str(int(peak)))
    power = power / 10 if power > 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if peak <= step * power:
            return step * power
    return 10 * power


def _desc(categories: Sequence[str], series: Sequence[Series], unit: str) -> str:
    parts = []
    for i, name in enumerate(categories):
        values = ", ".join(f"{s.name} {_fmt(s.values[i], unit)}" for s in series)
        parts.append(f"{name}: {values}")
    return "; ".join(parts) + "."


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    """The <svg> element with its accessible name (<title>) and description (<desc>)."""
    ident = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="report-chart" id="{ident}" '
        f'aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def bar_chart(
    *,
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    max_value: float | None = None,
    width: int = 760,
    height: int = 300,
) -> Markup:
    """Grouped vertical bars, one group per category (months, buckets), a legend on top."""
    left, right, top, bottom = 48, 12, 40, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for s in series for v in s.values if v is not None]
    peak = max_value if max_value is not None else _nice_peak(max(values, default=0.0))
    slot = plot_w / max(len(categories), 1)
    group_w = slot * 0.8
    bar_w = group_w / max(len(series), 1)
    parts = _open(chart_id, title, _desc(categories, series, unit), width, height)
    for tick in range(5):  # gridlines and axis labels at 0, 25, 50, 75, 100 % of the top
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{"#555" if tick == 0 else "#ddd"}" stroke-width="1"/>'
        )
        label = f"{value:g}" + (" %" if unit == "%" else "")
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#444">{escape(label)}</text>'
        )
    x_legend = left
    for s in series:  # the legend, above the plot
        parts.append(
            f'<rect x="{x_legend}" y="10" width="12" height="12" fill="{escape(s.color)}"/>'
            f'<text x="{x_legend + 16}" y="20" font-size="12" fill="#222">{escape(s.name)}</text>'
        )
        x_legend += 24 + 7 * len(s.name)
    for i, name in enumerate(categories):
        x0 = left + i * slot + (slot - group_w) / 2
        for j, s in enumerate(series):
            bar = s.values[i]
            h = 0.0 if bar is None else plot_h * min(float(bar), peak) / peak
            x = x0 + j * bar_w
            y = top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{escape(s.color)}"><title>{escape(name)} · {escape(s.name)}: '
                f"{escape(_fmt(bar, unit))}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group_w / 2:.1f}" y="{top + plot_h + 16}" font-size="11" '
            f'text-anchor="middle" fill="#333">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(
    *,
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    width: int = 760,
    row_height: int = 22,
) -> Markup:
    """Horizontal bars, one row per category (long labels: specialists, purposes), values at
    the bar's end."""
    label_w, right, top = 210, 70, 34
    plot_w = width - label_w - right
    rows = max(len(categories), 1)
    height = top + rows * row_height * max(len(series), 1) + 12
    values = [v for s in series for v in s.values if v is not None]
    peak = _nice_peak(max(values, default=0))
    parts = _open(chart_id, title, _desc(categories, series, unit), width, height)
    x_legend = label_w
    for s in series:
        parts.append(
            f'<rect x="{x_legend}" y="8" width="12" height="12" fill="{escape(s.color)}"/>'
            f'<text x="{x_legend + 16}" y="18" font-size="12" fill="#222">{escape(s.name)}</text>'
        )
        x_legend += 24 + 7 * len(s.name)
    y = top
    for i, name in enumerate(categories):
        shown = name if len(name) <= 30 else name[:29] + "…"
        group_h = row_height * len(series)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + group_h / 2 + 4:.1f}" font-size="12" '
            f'text-anchor="end" fill="#222">{escape(shown)}</text>'
        )
        for s in series:
            value = s.values[i]
            w = 0.0 if value is None else plot_w * float(value) / peak
            parts.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_height - 6}" '
                f'fill="{escape(s.color)}"><title>{escape(name)} · {escape(s.name)}: '
                f"{escape(_fmt(value, unit))}</title></rect>"
                f'<text x="{label_w + w + 4:.1f}" y="{y + row_height / 2 + 4:.1f}" '
                f'font-size="11" fill="#222">{escape(_fmt(value, unit))}</text>'
            )
            y += row_height
    parts.append(
        f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{y}" stroke="#555" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
