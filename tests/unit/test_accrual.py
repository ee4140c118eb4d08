"""Monthly accrual rules, §1 and DESIGN §4: floor(spend_yuan x rate) + reward, integers only."""

from __future__ import annotations

import calendar
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.points.accrual import DEFAULT_TENURE_RATES, AccrualRules, parse_period

DEFAULT = AccrualRules.parse(DEFAULT_TENURE_RATES)


def test_default_spec_is_the_documented_one() -> None:
    """DESIGN §4: <12 months x1.0, 12-35 x1.2, 36-59 x1.5, >=60 x2.0."""
    assert DEFAULT_TENURE_RATES == "0:1.0,12:1.2,36:1.5,60:2.0"
    assert [(r.min_months, r.rate, r.label) for r in DEFAULT.rates] == [
        (0, Fraction(1), "1.0"),
        (12, Fraction(6, 5), "1.2"),
        (36, Fraction(3, 2), "1.5"),
        (60, Fraction(2), "2.0"),
    ]
    assert DEFAULT.expiry_years == 1
    assert DEFAULT.timezone.key == "Asia/Shanghai"


def test_parse_sorts_pairs_and_tolerates_spaces() -> None:
    rules = AccrualRules.parse(" 36:1.5 , 0:1 ,12:1.25")
    assert [(r.min_months, r.rate) for r in rules.rates] == [
        (0, Fraction(1)),
        (12, Fraction(5, 4)),
        (36, Fraction(3, 2)),
    ]


def test_parse_single_rate() -> None:
    rules = AccrualRules.parse("0:3")
    assert rules.points(100, 500, 0) == 3


@pytest.mark.parametrize(
    "spec",
    [
        "",
        " ",
        ",",
        "0:1.0,",
        "0",
        "0:",
        ":1.0",
        "0-1.0",
        "0=1.0",
        "0:1,5",
        "0:-1",
        "-1:1.0,0:1.0",
        "0:1e3",
        "0:.5",
        "0:1.",
        "a:1.0",
        "0:x",
        "0.5:1.0",
        "0:1.0;12:1.2",
        "0:1.0,12",
    ],
)
def test_malformed_specs_raise_value_error(spec: str) -> None:
    with pytest.raises(ValueError, match="bad tenure rate"):
        AccrualRules.parse(spec)


@pytest.mark.parametrize("spec", ["12:1.2", "1:1.0,12:1.2", "12:1.2,36:1.5"])
def test_spec_must_start_at_zero_months(spec: str) -> None:
    with pytest.raises(ValueError, match="must start at 0"):
        AccrualRules.parse(spec)


def test_negative_expiry_years_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        AccrualRules.parse(DEFAULT_TENURE_RATES, expiry_years=-1)


@pytest.mark.parametrize(
    ("months", "rate"),
    [
        (0, Fraction(1)),
        (1, Fraction(1)),
        (11, Fraction(1)),
        (12, Fraction(6, 5)),
        (35, Fraction(6, 5)),
        (36, Fraction(3, 2)),
        (59, Fraction(3, 2)),
        (60, Fraction(2)),
        (70, Fraction(2)),
        (1200, Fraction(2)),
    ],
)
def test_rate_for_boundaries(months: int, rate: Fraction) -> None:
    assert DEFAULT.rate_for(months).rate == rate


def test_thousand_yuan_at_seventy_months_is_two_thousand_points() -> None:
    """DESIGN §4 worked example."""
    assert DEFAULT.points(100_000, 70, 0) == 2000


@pytest.mark.parametrize(
    ("cents", "months", "reward", "expected"),
    [
        (12_345, 12, 0, 148),  # 123.45 x 1.2 = 148.14 -> 148
        (12_345, 0, 0, 123),  # 123.45 -> 123
        (12_345, 36, 0, 185),  # 185.175 -> 185
        (12_345, 60, 0, 246),  # 246.9 -> 246
        (99, 70, 0, 1),  # 0.99 x 2 = 1.98 -> 1
        (49, 70, 0, 0),  # 0.98 -> 0
        (50, 70, 0, 1),  # exactly 1.00
        (83, 12, 0, 0),  # 0.996 -> 0
        (84, 12, 0, 1),  # 1.008 -> 1
        (0, 70, 0, 0),
        (0, 0, 500, 500),
        (12_345, 12, 7, 155),
        (100_000, 11, 0, 1000),
        (100_000, 12, 0, 1200),
        (100_000, 36, 0, 1500),
        (100_000, 60, 0, 2000),
    ],
)
def test_points_floor_and_reward(cents: int, months: int, reward: int, expected: int) -> None:
    assert DEFAULT.points(cents, months, reward) == expected


def test_points_exact_at_the_feed_ceilings_no_float_rounding() -> None:
    """10**12 cents x1.2 must be exact; a float path would drift at this size."""
    assert DEFAULT.points(10**12, 12, 10**9) == 12_000_000_000 + 10**9
    assert DEFAULT.points(10**12 - 1, 12, 0) == 11_999_999_999  # 11999999999.988 -> floor
    assert isinstance(DEFAULT.points(12_345, 12, 0), int)


def _epoch(y: int, mo: int, d: int, h: int = 0) -> int:
    return calendar.timegm((y, mo, d, h, 0, 0))


def test_expires_at_end_of_following_year_shanghai() -> None:
    """DESIGN §4: points earned in year N expire at the end of N+1, operator time zone."""
    # 2028-01-01 00:00 +08:00 == 2027-12-31 16:00 UTC
    assert DEFAULT.expires_at("2026-10") == _epoch(2027, 12, 31, 16) == 1_830_268_800
    assert DEFAULT.expires_at("2026-01") == DEFAULT.expires_at("2026-12")
    assert DEFAULT.expires_at("2027-01") == _epoch(2028, 12, 31, 16)


def test_expires_at_respects_configuration() -> None:
    same_year = AccrualRules.parse(DEFAULT_TENURE_RATES, expiry_years=0)
    assert same_year.expires_at("2026-10") == _epoch(2026, 12, 31, 16)
    utc = AccrualRules.parse(DEFAULT_TENURE_RATES, timezone="UTC")
    assert utc.expires_at("2026-10") == _epoch(2028, 1, 1)
    three = AccrualRules.parse(DEFAULT_TENURE_RATES, expiry_years=3)
    assert three.expires_at("2026-10") == _epoch(2029, 12, 31, 16)


def test_expires_at_rejects_bad_period() -> None:
    with pytest.raises(ValueError):
        DEFAULT.expires_at("2026-13")


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2026-01", (2026, 1)),
        ("2026-10", (2026, 10)),
        ("2026-12", (2026, 12)),
        ("1999-09", (1999, 9)),
    ],
)
def test_parse_period_accepts(period: str, expected: tuple[int, int]) -> None:
    assert parse_period(period) == expected


@pytest.mark.parametrize(
    "period",
    [
        "2026-13",
        "2026-00",
        "2026-1",
        "26-01",
        "2026-001",
        "20261",
        "202601",
        "2026/01",
        "2026-01-01",
        " 2026-01",
        "2026-01 ",
        "",
        "YYYY-MM",
    ],
)
def test_parse_period_rejects(period: str) -> None:
    with pytest.raises(ValueError, match="bad period"):
        parse_period(period)


def test_parse_period_rejects_trailing_newline() -> None:
    with pytest.raises(ValueError):
        parse_period("2026-01\n")


def test_parse_period_rejects_non_ascii_digits() -> None:
    with pytest.raises(ValueError):
        parse_period("２０２６-01")


# ---------------------------------------------------------------- properties

_cents = st.integers(0, 10**12)
_months = st.integers(0, 1200)
_reward = st.integers(0, 10**9)


@settings(max_examples=500, deadline=None)
@given(_cents, _months, _reward)
def test_points_never_negative_and_exact(cents: int, months: int, reward: int) -> None:
    p = DEFAULT.points(cents, months, reward)
    assert p >= 0
    assert isinstance(p, int)
    rate = DEFAULT.rate_for(months).rate
    assert p == int(Fraction(cents, 100) * rate) + reward  # floor of the exact rational


@settings(max_examples=500, deadline=None)
@given(_cents, _cents, _months, _reward)
def test_points_monotonic_in_spend(a: int, b: int, months: int, reward: int) -> None:
    lo, hi = sorted((a, b))
    assert DEFAULT.points(lo, months, reward) <= DEFAULT.points(hi, months, reward)


@settings(max_examples=300, deadline=None)
@given(_cents, _months, _months, _reward)
def test_points_monotonic_in_tenure_with_default_rates(
    cents: int, m1: int, m2: int, reward: int
) -> None:
    lo, hi = sorted((m1, m2))
    assert DEFAULT.points(cents, lo, reward) <= DEFAULT.points(cents, hi, reward)


def test_the_same_threshold_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="same number of months twice"):
        AccrualRules.parse("0:1.0,0:2.0")
