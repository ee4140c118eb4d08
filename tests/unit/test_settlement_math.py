"""Settlement arithmetic: rates are integer rationals, amounts round half up, months are local."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.messaging import segments
from core.settlement.errors import BadPeriod
from core.settlement.settlement import Rate, period_bounds, period_of, previous_period
from core.settlement.texts import statement_summary, yuan

TZ = ZoneInfo("Asia/Shanghai")


def test_amount_rounds_half_up() -> None:
    assert Rate(250, 1000).amount(800) == 200
    assert Rate(333, 1000).amount(1500) == 500  # 499.5
    assert Rate(333, 1000).amount(1499) == 499  # 499.167
    assert Rate(1, 3).amount(1) == 0 and Rate(1, 3).amount(2) == 1
    assert Rate(0, 1000).amount(10**9) == 0


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=1, max_value=10**6),
)
def test_amount_is_the_exact_value_rounded_half_up(points: int, cents: int, per: int) -> None:
    exact = Fraction(points * cents, per)
    got = Rate(cents, per).amount(points)
    assert exact - Fraction(1, 2) < got <= exact + Fraction(1, 2)
    assert isinstance(got, int)


def test_periods_are_months_in_the_operator_zone() -> None:
    start, end = period_bounds("2026-12", TZ)
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert datetime.fromtimestamp(end, UTC) == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert period_of(start, TZ) == "2026-12" and period_of(start - 1, TZ) == "2026-11"
    assert previous_period(start, TZ) == "2026-11"
    assert previous_period(period_bounds("2026-01", TZ)[0] + 5, TZ) == "2025-12"
    for bad in ("2026-13", "2026-1", "26-01", ""):
        with pytest.raises(BadPeriod):
            period_bounds(bad, TZ)


class _View:
    id = 123456
    period = "2026-11"
    lines = 987_654
    points = 9_876_543_210
    amount_cents = 246_913_580_25

    def merchant_name(self, lang: str) -> str:
        return "一家名字非常非常长的连锁咖啡与甜点专卖店" if lang == "zh" else "A" * 80


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_statement_summary_fits_two_segments(lang: str) -> None:
    text = statement_summary(lang, _View())
    assert segments.count(text) <= 2
    assert "2026-11" in text and "123456" in text


def test_yuan_formats_cents() -> None:
    assert yuan(0) == "0.00" and yuan(5) == "0.05" and yuan(123456) == "1,234.56"
