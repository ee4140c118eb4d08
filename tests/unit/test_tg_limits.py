"""Telegram's limits in UTF-16 code units, cut on a code-point boundary (issue 14 item 7)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot import limits


def test_an_emoji_is_two_units() -> None:
    assert limits.units("🧤") == 2
    assert limits.units("暖手宝") == 3
    assert limits.units("a" * 4096) == 4096


def test_520_emoji_and_a_heading_are_over_a_caption() -> None:
    caption = limits.caption("Hand warmer, code 7001\n" + "🧤" * 520)  # 23 + 1,040 units
    assert limits.units(caption) <= limits.CAPTION
    assert caption.endswith("…")
    assert caption.encode("utf-16-le").decode("utf-16-le") == caption  # no lone surrogate


def test_what_fits_is_left_alone() -> None:
    assert limits.text("x" * 4096) == "x" * 4096
    assert limits.caption("🧤" * 512) == "🧤" * 512


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_cut_never_exceeds_and_never_splits(text: str, limit: int) -> None:
    cut = limits.cut(text, limit)
    assert limits.units(cut) <= limit
    assert text.startswith(cut.removesuffix("…")) or cut == text
