"""A bar chart drawn as SVG on the server: points consumed and amounts settled by month.

No script, no CDN: the page embeds the markup. Each series has its own scale
(points on the left bars, yuan on the right bars of each month), and every bar
carries its value as text, so the chart reads without a legend lookup.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from core.settlement.reports import MonthFigures

WIDTH = 720
HEIGHT = 260
TOP = 30
BOTTOM = 40
LEFT = 10
POINTS_COLOUR = "#2f6db5"
AMOUNT_COLOUR = "#e08a1e"


def _bar(x: float, height: float, width: float, colour: str, label: str) -> str:
    base = HEIGHT - BOTTOM
    return (
        f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}" fill="{colour}"><title>{escape(label)}</title></rect>'
        f'<text x="{x + width / 2:.1f}" y="{base - height - 3:.1f}" font-size="8" '
        f'text-anchor="middle">{escape(label)}</text>'
    )


def monthly_svg(months: list[MonthFigures], points_label: str, amount_label: str) -> Markup:
    """An SVG of ``months``: a blue bar (points) and an orange bar (yuan) per month."""
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - 2 * LEFT) / max(1, len(months))
    bar = slot * 0.32
    gap = slot * 0.08
    most_points = max((m.points for m in months), default=0) or 1
    most_cents = max((m.settled_cents for m in months), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">',
        f'<rect x="{LEFT}" y="4" width="10" height="10" fill="{POINTS_COLOUR}"/>'
        f'<text x="{LEFT + 14}" y="13" font-size="11">{escape(points_label)}</text>'
        f'<rect x="{LEFT + 160}" y="4" width="10" height="10" fill="{AMOUNT_COLOUR}"/>'
        f'<text x="{LEFT + 174}" y="13" font-size="11">{escape(amount_label)}</text>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - LEFT}" '
        f'y2="{HEIGHT - BOTTOM}" stroke="#888"/>',
    ]
    for i, month in enumerate(months):
        x = LEFT + i * slot + slot * 0.1
        parts.append(
            _bar(x, plot * month.points / most_points, bar, POINTS_COLOUR, f"{month.points:,}")
        )
        parts.append(
            _bar(
                x + bar + gap,
                plot * month.settled_cents / most_cents,
                bar,
                AMOUNT_COLOUR,
                f"{month.settled_cents / 100:,.2f}",
            )
        )
        parts.append(
            f'<text x="{x + bar + gap / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" '
            f'text-anchor="middle">{escape(month.period)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
