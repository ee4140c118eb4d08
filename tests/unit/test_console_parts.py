"""Pure parts of the merchant console (issue 8): language choice, masking, the SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

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
        MonthFigures("2026-11", 1600, 200, unsettled_points=1000, statement_points=600),
        MonthFigures("2026-12", 800, 0),
    ]
    svg = monthly_svg(months, Words("en"))
    root = ET.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert len(bars) == 2 * len(months) + 1  # November's points bar in two parts
    heights = [float(b.attrib["height"]) for b in bars]
    # 2026-10: settled 0, amount 0; 2026-11: settled 600, not yet 1,000, amount 2.00;
    # 2026-12: settled 800, amount 0
    assert heights[0] == heights[1] == 0
    assert heights[3] / heights[2] == pytest.approx(1000 / 600, rel=0.01)  # one scale
    assert heights[2] + heights[3] == pytest.approx(2 * heights[5], abs=0.2)  # 1,600 vs 800
    assert heights[4] > 0 and heights[6] == 0
    titles = [b.find(f"{ns}title").text for b in bars]  # type: ignore[union-attr]
    assert (
        titles[2]
        == titles[3]
        == ("2026-11: 1,600 points consumed, 600 on a statement, 1,000 not yet settled")
    )
    assert titles[4] == "Statement 2026-11: 600 points, 2.00 yuan"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "Points consumed, on a statement" in texts
    assert "Points consumed, not yet settled" in texts
    assert "The month's statement (yuan)" in texts
    assert "2026-11" in texts and "1,600" in texts and "2.00" in texts


def test_the_chart_escapes_its_words() -> None:
    def words(key: str, **_args: object) -> str:
        return f"<{key}> & more"

    root = ET.fromstring(str(monthly_svg([MonthFigures("2026-11", 5, 5)], words)))
    assert "<chart_settled> & more" in [t.text for t in root.iter()]


def test_an_empty_chart_draws_no_bars() -> None:
    root = ET.fromstring(str(monthly_svg([], Words("zh"))))
    assert root.tag.endswith("svg")
