"""Small trend charts drawn on the server as inline SVG (pure, no Django, no JavaScript).

A chart is a few lines over the months of a period: bars would say the same with more ink. The
SVG carries a ``<title>`` per point, so hovering shows the value, and a text table goes with
every chart in the page for screen readers and printing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

PALETTE = ("#1d4ed8", "#15803d", "#b91c1c", "#a16207", "#7c3aed", "#0f766e")


def _fmt(value: float | Decimal | int) -> str:
    number = float(value)
    return f"{number:.0f}" if number == int(number) else f"{number:.1f}"


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | Decimal | int | None]]],
    *,
    title: str = "",
    width: int = 360,
    height: int = 140,
    percent: bool = False,
) -> str:
    """An SVG line chart; ``None`` values leave a gap. ``percent`` fixes the scale to 0–100."""
    left, right, top, bottom = 34, 8, 10, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for _, points in series for v in points if v is not None]
    top_value = 100.0 if percent else max([*values, 1.0])
    if not percent:
        # A round top: 1, 2, 5 × 10^n.
        magnitude = 1.0
        while magnitude * 10 <= top_value:
            magnitude *= 10
        top_value = next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= top_value)
    count = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / count)

    def y(v: float) -> float:
        return top + plot_h - (plot_h * v / top_value if top_value else 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        gy = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{left - 4}" y="{gy + 3:.1f}" font-size="9" text-anchor="end" fill="#555">'
            f"{_fmt(top_value * fraction)}{'%' if percent else ''}</text>"
        )
    step = max(1, (len(labels) + 5) // 6)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 6}" font-size="9" text-anchor="middle" fill="#555">'
                f"{escape(label)}</text>"
            )
    for index, (name, points) in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        run: list[str] = []
        runs: list[list[str]] = [run]
        for i, value in enumerate(points):
            if value is None:
                run = []
                runs.append(run)
                continue
            run.append(f"{x(i):.1f},{y(float(value)):.1f}")
        for points_text in runs:
            if len(points_text) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(points_text)}"/>'
                )
        for i, value in enumerate(points):
            if value is None:
                continue
            label = labels[i] if i < len(labels) else ""
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(float(value)):.1f}" r="2.5" fill="{color}">'
                f"<title>{escape(name)} {escape(label)}: {_fmt(value)}{'%' if percent else ''}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)
