"""SMS segment arithmetic (3GPP TS 23.038 / 23.040), DESIGN §6: replies fit a segment budget.

The expectations are computed from the standard's own tables written out here
(not from the module's constants), so a wrong table in ``core.messaging.segments`` shows up.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.messaging import segments
from core.messaging.segments import capacity, count, encoding, fits, length, limits, split, truncate

# TS 23.038 §6.2.1, the GSM 7-bit default alphabet in code order 0x00..0x7F.
# 0x1B (ESC) is the escape to the extension table, not a character of its own.
SPEC_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# TS 23.038 §6.2.1.1, the default extension table (each costs ESC + char = 2 septets).
SPEC_EXTENSION = "\f^{}\\[]~|€"

GSM_BASIC_CHARS = SPEC_BASIC.replace("\x1b", "")


def oracle_units(c: str, enc: str) -> int:
    if enc == "GSM-7":
        return 2 if c in SPEC_EXTENSION else 1
    return 2 if ord(c) > 0xFFFF else 1


def oracle_length(text: str, enc: str) -> int:
    return sum(oracle_units(c, enc) for c in text)


# ---------------------------------------------------------------- alphabet


def test_spec_table_is_128_positions() -> None:
    assert len(SPEC_BASIC) == 128
    assert len(set(SPEC_BASIC)) == 128


def test_basic_alphabet_matches_ts_23_038() -> None:
    assert set(GSM_BASIC_CHARS) == segments.GSM7_BASIC


def test_extension_table_matches_ts_23_038() -> None:
    assert set(SPEC_EXTENSION) == segments.GSM7_EXTENSION


@pytest.mark.parametrize(
    "text",
    ["", "hello", "JF", GSM_BASIC_CHARS, SPEC_EXTENSION, "Price: 5€ [x] {y} ~z | a\\b ^"],
)
def test_gsm7_texts(text: str) -> None:
    assert encoding(text) == "GSM-7"


@pytest.mark.parametrize(
    "text",
    [
        "积分",
        "a中",
        "ç",  # only capital Ç is in the table
        "`",  # backtick is not GSM
        "…",  # a real ellipsis forces UCS-2
        "×",
        "“quoted”",
        "😀",
        "\x1b",  # ESC alone is not a printable character
    ],
)
def test_ucs2_texts(text: str) -> None:
    assert encoding(text) == "UCS-2"


def test_length_counts_septets_and_utf16_units() -> None:
    assert length("abc") == 3
    assert length("€") == 2
    assert length("\f") == 2
    assert length("a^b") == 4
    assert length("中文") == 2
    assert length("😀") == 2  # outside the BMP: a surrogate pair
    assert length("中😀") == 3
    # In a UCS-2 text an extension character is one UTF-16 unit, not two septets.
    assert length("€中") == 2


def test_limits_and_capacity() -> None:
    assert limits("GSM-7") == (160, 153)
    assert limits("UCS-2") == (70, 67)
    assert capacity("GSM-7", 1) == 160
    assert capacity("GSM-7", 2) == 306
    assert capacity("GSM-7", 3) == 459
    assert capacity("UCS-2", 1) == 70
    assert capacity("UCS-2", 2) == 134
    assert capacity("UCS-2", 3) == 201


# ---------------------------------------------------------------- boundaries


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_segment_boundaries(n: int, expected: int) -> None:
    assert count("a" * n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_segment_boundaries(n: int, expected: int) -> None:
    assert count("积" * n) == expected


def test_extension_chars_count_double_toward_single_limit() -> None:
    assert count("€" * 80) == 1  # 160 septets
    assert count("€" * 80 + "a") == 2  # 161 septets
    assert count("a" * 159 + "€") == 2  # 161 septets, although 160 characters
    assert count("a" * 158 + "€") == 1


def test_emoji_count_double_toward_single_limit() -> None:
    assert count("😀" * 35) == 1  # 70 units
    assert count("😀" * 35 + "a") == 2
    assert count("积" * 69 + "😀") == 2  # 70 characters, 71 units


def test_one_ucs2_character_turns_the_whole_text_ucs2() -> None:
    text = "a" * 100 + "中"
    assert encoding(text) == "UCS-2"
    assert [len(p) for p in split(text)] == [67, 34]


def test_split_gsm7_exact_parts() -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(307))
    parts = split(text)
    assert [len(p) for p in parts] == [153, 153, 1]
    assert "".join(parts) == text


def test_split_single_segment_is_not_split() -> None:
    assert split("a" * 160) == ["a" * 160]
    assert split("积" * 70) == ["积" * 70]
    assert split("") == []


def test_extension_char_at_part_boundary_moves_whole_to_next_part() -> None:
    """ESC and its character must travel in the same part (TS 23.040 §9.2.3.24.1)."""
    text = "a" * 152 + "€" + "b" * 10
    parts = split(text)
    assert parts == ["a" * 152, "€" + "b" * 10]
    assert length(parts[0]) == 152


def test_extension_char_that_just_fits_stays_in_part() -> None:
    text = "a" * 151 + "€" + "b" * 10
    assert split(text) == ["a" * 151 + "€", "b" * 10]


def test_surrogate_pair_at_part_boundary_is_never_split() -> None:
    text = "积" * 66 + "😀" + "分" * 10
    parts = split(text)
    assert parts == ["积" * 66, "😀" + "分" * 10]
    for p in parts:
        p.encode("utf-16-le")  # a lone surrogate would raise here


def test_emoji_only_text_splits_on_pairs() -> None:
    assert [len(p) for p in split("😀" * 36)] == [33, 3]


def test_fits() -> None:
    assert fits("a" * 306, 2)
    assert not fits("a" * 307, 2)
    assert fits("积" * 134, 2)
    assert not fits("积" * 135, 2)
    assert fits("", 1)


# ---------------------------------------------------------------- truncate


def test_truncate_leaves_fitting_text_alone() -> None:
    text = "a" * 306
    assert truncate(text, 2) == text
    assert truncate("积" * 70, 1) == "积" * 70


@pytest.mark.parametrize(
    ("text", "budget", "expected"),
    [
        ("a" * 161, 1, "a" * 157 + "..."),
        ("a" * 400, 2, "a" * 303 + "..."),
        ("a" * 500, 3, "a" * 456 + "..."),
        ("积" * 71, 1, "积" * 69 + "…"),
        ("积" * 200, 2, "积" * 133 + "…"),
        ("€" * 100, 1, "€" * 78 + "..."),  # 156 septets + 3
        ("😀" * 50, 1, "😀" * 34 + "…"),  # 68 units + 1
    ],
)
def test_truncate_exact_cut(text: str, budget: int, expected: str) -> None:
    result = truncate(text, budget)
    assert result == expected
    assert count(result) <= budget


def test_truncate_keeps_gsm7_text_gsm7() -> None:
    """An English reply must not become UCS-2 (and cost 2.3x) just because it was cut."""
    result = truncate("Points history, page 1: " + "x" * 400, 2)
    assert encoding(result) == "GSM-7"
    assert result.endswith("...")
    assert "…" not in result


def test_truncate_ucs2_uses_single_char_ellipsis() -> None:
    result = truncate("积" * 300, 1)
    assert result.endswith("…")
    assert not result.endswith("...")


def test_truncate_extension_char_at_boundary_still_fits() -> None:
    text = "a" * 152 + "€" + "a" * 200
    assert count(truncate(text, 2)) <= 2


def test_truncate_surrogate_pair_at_boundary_still_fits() -> None:
    text = "积" * 66 + "😀" + "分" * 100
    assert count(truncate(text, 2)) <= 2


# ---------------------------------------------------------------- properties

GSM_ALPHABET = st.sampled_from(GSM_BASIC_CHARS + SPEC_EXTENSION)
WIDE_ALPHABET = st.sampled_from("积分明细中文abc€😀🎉𠀀")
SINGLE_UNIT_GSM = st.sampled_from(GSM_BASIC_CHARS)
SINGLE_UNIT_UCS2 = st.sampled_from("积分明细中文abc!?" + "é")

texts = st.one_of(
    st.text(GSM_ALPHABET, max_size=600),
    st.text(WIDE_ALPHABET, max_size=300),
    st.text(max_size=400),
)
PROP = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROP
@given(texts)
def test_split_round_trips_and_each_part_fits(text: str) -> None:
    parts = split(text)
    assert "".join(parts) == text
    enc = encoding(text)
    single, per_part = (160, 153) if enc == "GSM-7" else (70, 67)
    total = oracle_length(text, enc)
    assert length(text) == total
    if not text:
        assert parts == []
    elif total <= single:
        assert parts == [text]
    else:
        assert len(parts) >= 2
        for p in parts:
            assert p
            assert oracle_length(p, enc) <= per_part
        # Greedy: a part ends only where the next character would not fit.
        for p, nxt in itertools.pairwise(parts):
            assert oracle_length(p, enc) + oracle_units(nxt[0], enc) > per_part
    assert count(text) == len(parts)


@PROP
@given(texts)
def test_truncate_to_one_segment_always_fits(text: str) -> None:
    result = truncate(text, 1)
    assert count(result) <= 1
    _assert_truncation_shape(text, result, 1)


@PROP
@given(
    st.one_of(st.text(SINGLE_UNIT_GSM, max_size=700), st.text(SINGLE_UNIT_UCS2, max_size=300)),
    st.integers(1, 3),
)
def test_truncate_fits_budget_single_unit_texts(text: str, budget: int) -> None:
    result = truncate(text, budget)
    assert count(result) <= budget
    _assert_truncation_shape(text, result, budget)


@PROP
@given(texts, st.integers(1, 3))
@example("a" * 152 + "€" + "a" * 200, 2)
def test_truncate_always_fits_budget(text: str, budget: int) -> None:
    """The brief's property: count(truncate(t, b)) <= b for b in 1..3."""
    result = truncate(text, budget)
    assert count(result) <= budget
    _assert_truncation_shape(text, result, budget)


def _assert_truncation_shape(text: str, result: str, budget: int) -> None:
    if fits(text, budget):
        assert result == text
        return
    enc = encoding(text)
    ellipsis = "..." if enc == "GSM-7" else "…"
    assert result.endswith(ellipsis)
    assert text.startswith(result[: -len(ellipsis)])
    if enc == "GSM-7":
        assert encoding(result) == "GSM-7"
