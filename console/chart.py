"""A bar chart drawn as SVG on the server: points consumed and the statement, by month.

No script, no CDN: the page embeds the markup. Each month has two bars, each saying what
it counts (issue 16 §5): the **points consumed** in the month (every voucher used and
till payment), split into the part already on a statement (dark) and the part not yet
settled (light: consumed after an early settlement, or not settled yet); and the
**month's statement** in yuan, its tooltip giving the points it settled. Each series has
its own scale and every bar carries its value as text; a tooltip (``<title>``) says the
rest.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape

from core.settlement.reports import MonthFigures

WIDTH = 720
HEIGHT = 260
TOP = 30
BOTTOM = 40
LEFT = 10
SETTLED_COLOUR = "#2f6db5"
UNSETTLED_COLOUR = "#9dbce3"
AMOUNT_COLOUR = "#e08a1e"
LEGEND_STEP = 236
Words = Callable[..., str]
"""The console's words (``console.texts.Words``): ``t(key, **args)``."""


def _rect(x: float, top: float, height: float, width: float, colour: str, title: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{escape(title)}</title></rect>'
    )


def _value(x: float, top: float, width: float, text: str) -> str:
    return (
        f'<text x="{x + width / 2:.1f}" y="{top - 3:.1f}" font-size="8" '
        f'text-anchor="middle">{escape(text)}</text>'
    )


def _legend(index: int, colour: str, label: str) -> str:
    x = LEFT + index * LEGEND_STEP
    return (
        f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>'
        f'<text x="{x + 14}" y="13" font-size="11">{escape(label)}</text>'
    )


def monthly_svg(months: list[MonthFigures], t: Words) -> Markup:
    """An SVG of ``months``: a blue bar of points consumed (dark: on a statement, light: not
    yet settled) and an orange bar of the month's statement (yuan) per month; labels from
    ``t`` (``chart_settled``, ``chart_unsettled``, ``chart_amount``, ``chart_points_title``,
    ``chart_amount_title``)."""
    base = HEIGHT - BOTTOM
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - 2 * LEFT) / max(1, len(months))
    bar = slot * 0.32
    gap = slot * 0.08
    most_points = max((m.points for m in months), default=0) or 1
    most_cents = max((m.settled_cents for m in months), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">',
        _legend(0, SETTLED_COLOUR, t("chart_settled")),
        _legend(1, UNSETTLED_COLOUR, t("chart_unsettled")),
        _legend(2, AMOUNT_COLOUR, t("chart_amount")),
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - LEFT}" y2="{base}" stroke="#888"/>',
    ]
    for i, month in enumerate(months):
        x = LEFT + i * slot + slot * 0.1
        points_title = t(
            "chart_points_title",
            period=month.period,
            points=month.points,
            settled=month.points - month.unsettled_points,
            unsettled=month.unsettled_points,
        )
        whole = plot * month.points / most_points
        open_part = plot * month.unsettled_points / most_points
        parts.append(
            _rect(x, base - whole + open_part, whole - open_part, bar, SETTLED_COLOUR, points_title)
        )
        if month.unsettled_points:
            parts.append(_rect(x, base - whole, open_part, bar, UNSETTLED_COLOUR, points_title))
        parts.append(_value(x, base - whole, bar, f"{month.points:,}"))
        yuan = f"{month.settled_cents / 100:,.2f}"
        height = plot * month.settled_cents / most_cents
        amount_title = t(
            "chart_amount_title", period=month.period, points=month.statement_points, yuan=yuan
        )
        parts.append(_rect(x + bar + gap, base - height, height, bar, AMOUNT_COLOUR, amount_title))
        parts.append(_value(x + bar + gap, base - height, bar, yuan))
        parts.append(
            f'<text x="{x + bar + gap / 2:.1f}" y="{base + 14}" font-size="10" '
            f'text-anchor="middle">{escape(month.period)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
