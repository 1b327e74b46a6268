"""Small SVG bar charts made on the server: readable without JavaScript, labelled for
screen readers, and always shown next to a table of the same numbers."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, BAR, GAP, LEFT = 640, 18, 10, 230


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "\u2026"


def grouped_bars(title: str, rows: list[tuple[str, list[float | None]]], series: list[str], maximum: float,
                 unit: str = "") -> Markup:
    """Horizontal bars, one group per row and one bar per series; None draws nothing."""
    colours = ["#6b7a8f", "#0b3d6e", "#1a6b34"]
    height = max(1, len(rows)) * (len(series) * BAR + GAP) + 40
    scale = (WIDTH - LEFT - 60) / (maximum or 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-labelledby="chart-title"><title id="chart-title">{escape(title)}</title>']
    y = 10
    for label, values in rows:
        parts.append(f'<text x="{LEFT - 8}" y="{y + BAR}" text-anchor="end" font-size="12" fill="#1b1b1b">'
                     f'{escape(_short(label))}</text>')
        for index, value in enumerate(values):
            if value is not None:
                width = max(1.0, value * scale)
                parts.append(f'<rect x="{LEFT}" y="{y}" width="{width:.1f}" height="{BAR - 3}" '
                             f'fill="{colours[index % len(colours)]}"><title>{escape(series[index])}: '
                             f'{value:.1f}{unit}</title></rect>')
                parts.append(f'<text x="{LEFT + width + 4:.1f}" y="{y + BAR - 6}" font-size="11" fill="#1b1b1b">'
                             f'{value:.0f}{escape(unit)}</text>')
            y += BAR
        y += GAP
    legend_x = LEFT
    for index, name in enumerate(series):
        parts.append(f'<rect x="{legend_x}" y="{height - 20}" width="12" height="12" '
                     f'fill="{colours[index % len(colours)]}"/><text x="{legend_x + 16}" y="{height - 10}" '
                     f'font-size="12" fill="#1b1b1b">{escape(name)}</text>')
        legend_x += 16 + 8 * len(name) + 20
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(title: str, points: list[tuple[str, int | None]]) -> Markup:
    """Vertical bars for a series over time, e.g. completions per month."""
    height, bottom = 220, 190
    top = max([v for _, v in points if v is not None] or [1])
    step = (WIDTH - 60) / max(1, len(points))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-labelledby="columns-title"><title id="columns-title">{escape(title)}</title>']
    for index, (label, value) in enumerate(points):
        x = 40 + index * step
        if value is not None:
            bar = (bottom - 20) * value / top
            parts.append(f'<rect x="{x:.1f}" y="{bottom - bar:.1f}" width="{step * 0.7:.1f}" height="{bar:.1f}" '
                         f'fill="#0b3d6e"><title>{escape(label)}: {value}</title></rect>')
            parts.append(f'<text x="{x + step * 0.35:.1f}" y="{bottom - bar - 4:.1f}" font-size="10" '
                         f'text-anchor="middle" fill="#1b1b1b">{value}</text>')
        parts.append(f'<text x="{x + step * 0.35:.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle" '
                     f'fill="#1b1b1b">{escape(label[2:] if len(points) > 12 else label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
