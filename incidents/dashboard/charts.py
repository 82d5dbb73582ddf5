"""Server-side SVG bar charts: no JavaScript, no CDN, readable in both languages.

Every chart is also shown as a table and offered as CSV, so nothing depends on
reading bars.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass
class Bar:
    label: str
    value: float | None
    colour: str = "#1f5fae"
    marker: float | None = None  # e.g. a target, drawn as a vertical line
    text: str = ""  # the value as shown


def bar_chart(title: str, bars: list[Bar], width: int = 520, no_data: str = "",
              label_width: int = 150) -> Markup:
    """`width` is the drawing's own coordinate width: a narrow column wants a small one,
    so the text is not scaled down to illegibility."""
    if not bars or all(b.value in (None, 0) for b in bars):
        return Markup(f'<p class="empty chart-empty">{escape(no_data)}</p>')
    label_w, row_h, pad = label_width, 28, 8
    chart_w = width - label_w - 90
    top = max([b.value or 0 for b in bars] + [b.marker or 0 for b in bars]) or 1
    height = pad * 2 + row_h * len(bars)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for i, bar in enumerate(bars):
        y = pad + i * row_h
        length = 0 if not bar.value else max(2, int(chart_w * bar.value / top))
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" '
                     f'font-size="13" fill="#1d232b">{escape(bar.label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{length}" height="{row_h - 10}" '
                     f'rx="3" fill="{escape(bar.colour)}"/>')
        parts.append(f'<text x="{label_w + length + 6}" y="{y + 18}" font-size="12" '
                     f'fill="#33404d">{escape(bar.text or ("—" if bar.value is None else bar.value))}</text>')
        if bar.marker:
            x = label_w + int(chart_w * bar.marker / top)
            parts.append(f'<line x1="{x}" x2="{x}" y1="{y + 2}" y2="{y + row_h - 2}" '
                         f'stroke="#b3261e" stroke-width="2" stroke-dasharray="3 2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
