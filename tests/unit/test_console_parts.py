"""Pure parts of the merchant console (issue 8): language choice, masking, the SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from console.chart import monthly_svg
from console.texts import TEXTS, Words, pick_lang
from core.platform.phones import mask
from core.settlement.reports import MonthFigures


def test_accept_language_picks_the_first_of_zh_and_en() -> None:
    assert pick_lang("en-US,en;q=0.9,zh;q=0.8", "zh") == "en"
    assert pick_lang("zh-CN,zh;q=0.9,en;q=0.8", "en") == "zh"
    assert pick_lang("fr-FR,de;q=0.5", "zh") == "zh"
    assert pick_lang(None, "en") == "en"


def test_both_languages_have_every_text() -> None:
    assert set(TEXTS["zh"]) == set(TEXTS["en"])
    assert Words("en")("login_wrong", n=3) == "Wrong code; 3 tries left."
    assert Words("xx").lang == "zh"


def test_customers_numbers_are_masked() -> None:
    assert mask("+8613800138000") == "+86138****8000"
    assert mask("+1415") == "****"


def test_the_chart_is_valid_svg_with_a_bar_per_series_and_month() -> None:
    months = [
        MonthFigures("2026-10", 0, 0),
        MonthFigures("2026-11", 1600, 200),
        MonthFigures("2026-12", 800, 0),
    ]
    svg = monthly_svg(months, "Points <consumed>", "Settled & paid")
    root = ET.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert len(bars) == 2 * len(months)
    heights = [float(b.attrib["height"]) for b in bars]
    assert heights[2] > heights[4] > heights[0] == 0  # 1,600 points > 800 > 0
    assert heights[3] > 0 and heights[5] == 0  # 2.00 yuan settled in November only
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "Points <consumed>" in texts and "2026-11" in texts and "2.00" in texts


def test_an_empty_chart_draws_no_bars() -> None:
    root = ET.fromstring(str(monthly_svg([], "p", "a")))
    assert root.tag.endswith("svg")
