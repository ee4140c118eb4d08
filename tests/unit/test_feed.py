"""Billing feed reader, §1 and DESIGN §8: good rows out, every bad row with its line and reason."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.platform.errors import FeedError
from core.points.feed import MAX_NAME, BadRow, FeedReader, FeedRow

HEADER = b"msisdn,period,spend_cents,tenure_months,reward_points,account_type,name\n"
SHORT_HEADER = b"msisdn,period,spend_cents,tenure_months,reward_points\n"
PERIOD = "2026-10"
E164 = "+8613800138000"


def read(data: bytes, period: str = PERIOD, region: str = "CN") -> list[FeedRow | BadRow]:
    return list(FeedReader(io.BytesIO(data), period, region))


def only(data: bytes) -> FeedRow | BadRow:
    rows = read(data)
    assert len(rows) == 1, rows
    return rows[0]


def bad(data: bytes) -> BadRow:
    row = only(data)
    assert isinstance(row, BadRow), row
    return row


# ---------------------------------------------------------------- good rows


@pytest.mark.parametrize(
    "msisdn",
    [
        "13800138000",
        "+86 138 0013 8000",
        "008613800138000",
        "+8613800138000",
        "+86-138-0013-8000",
        " 13800138000 ",
        "0086 138 0013 8000",
    ],
)
def test_msisdn_forms_become_e164(msisdn: str) -> None:
    """DESIGN §6: numbers arrive in any form and are stored as E.164."""
    data = HEADER + f'"{msisdn}",2026-10,12345,13,5,mobile,Zhang San\n'.encode()
    assert only(data) == FeedRow(2, E164, "mobile", 12345, 13, 5, "Zhang San")


def test_optional_columns_may_be_absent() -> None:
    row = only(SHORT_HEADER + b"13800138000,2026-10,100,0,0\n")
    assert row == FeedRow(2, E164, "mobile", 100, 0, 0, None)


def test_only_account_type_column() -> None:
    data = b"msisdn,period,spend_cents,tenure_months,reward_points,account_type\n"
    data += b"13800138000,2026-10,100,0,0,broadband\n"
    assert only(data) == FeedRow(2, E164, "broadband", 100, 0, 0, None)


def test_columns_in_any_order_and_case_and_spacing() -> None:
    data = b" Name , REWARD_POINTS,Period,msisdn,tenure_months,spend_cents\n"
    data += "王小明,7,2026-10,13800138000,40,999\n".encode()
    assert only(data) == FeedRow(2, E164, "mobile", 999, 40, 7, "王小明")


@pytest.mark.parametrize(
    ("field", "service"),
    [
        ("mobile", "mobile"),
        ("fixed", "fixed"),
        ("Broadband", "broadband"),
        (" FIXED ", "fixed"),
        ("", "mobile"),
    ],
)
def test_account_types(field: str, service: str) -> None:
    row = only(HEADER + f"13800138000,2026-10,1,1,1,{field},\n".encode())
    assert isinstance(row, FeedRow)
    assert row.service == service
    assert row.name is None


def test_fixed_line_number_accepted() -> None:
    row = only(HEADER + b"010 12345678,2026-10,1,1,1,fixed,\n")
    assert isinstance(row, FeedRow)
    assert row.msisdn == "+861012345678"


def test_region_is_used_for_national_numbers() -> None:
    data = SHORT_HEADER + b"(650) 253-0000,2026-10,1,1,1\n"
    [row] = read(data, region="US")
    assert isinstance(row, FeedRow)
    assert row.msisdn == "+16502530000"


def test_upper_bounds_are_inclusive() -> None:
    row = only(SHORT_HEADER + b"13800138000,2026-10,1000000000000,1200,1000000000\n")
    assert row == FeedRow(2, E164, "mobile", 10**12, 1200, 10**9, None)


def test_numbers_are_stripped_and_leading_zeros_allowed() -> None:
    row = only(SHORT_HEADER + b"13800138000,2026-10, 0100 ,007,0\n")
    assert row == FeedRow(2, E164, "mobile", 100, 7, 0, None)


def test_name_of_max_length_accepted() -> None:
    name = "名" * MAX_NAME
    row = only(HEADER + f"13800138000,2026-10,1,1,1,mobile,{name}\n".encode())
    assert isinstance(row, FeedRow)
    assert row.name == name


def test_utf8_bom_header_accepted() -> None:
    data = b"\xef\xbb\xbf" + SHORT_HEADER + b"13800138000,2026-10,1,2,3\n"
    assert only(data) == FeedRow(2, E164, "mobile", 1, 2, 3, None)


def test_crlf_line_endings() -> None:
    data = SHORT_HEADER.replace(b"\n", b"\r\n")
    data += b"13800138000,2026-10,1,2,3\r\n13800138000,2026-09,1,2,3\r\n"
    rows = read(data)
    assert rows[0] == FeedRow(2, E164, "mobile", 1, 2, 3, None)
    assert isinstance(rows[1], BadRow)
    assert rows[1].line == 3


def test_file_without_final_newline() -> None:
    assert only(SHORT_HEADER + b"13800138000,2026-10,1,2,3") == FeedRow(
        2, E164, "mobile", 1, 2, 3, None
    )


def test_header_only_has_no_rows() -> None:
    assert read(SHORT_HEADER) == []


# ---------------------------------------------------------------- bad rows


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (b"12345,2026-10,1,1,1,,", "msisdn '12345' is not a valid phone number"),
        (b"10086,2026-10,1,1,1,,", "msisdn '10086' is not a valid phone number"),
        (b"abc,2026-10,1,1,1,,", "msisdn 'abc' is not a valid phone number"),
        (b",2026-10,1,1,1,,", "msisdn '' is not a valid phone number"),
        (b"13800138000,2026-09,1,1,1,,", "period '2026-09' does not match 2026-10"),
        (b"13800138000,2026-1,1,1,1,,", "period '2026-1' does not match 2026-10"),
        (b"13800138000,,1,1,1,,", "period '' does not match 2026-10"),
        (b"13800138000,2026-10,-5,1,1,,", "spend_cents '-5' is not a whole number ≥ 0"),
        (b"13800138000,2026-10,1.5,1,1,,", "spend_cents '1.5' is not a whole number ≥ 0"),
        (b"13800138000,2026-10,1e3,1,1,,", "spend_cents '1e3' is not a whole number ≥ 0"),
        (b"13800138000,2026-10,,1,1,,", "spend_cents '' is not a whole number ≥ 0"),
        (b"13800138000,2026-10,1 000,1,1,,", "spend_cents '1 000' is not a whole number ≥ 0"),
        (b"13800138000,2026-10,+5,1,1,,", "spend_cents '+5' is not a whole number ≥ 0"),
        (
            b"13800138000,2026-10,1000000000001,1,1,,",
            "spend_cents 1000000000001 is more than 1000000000000",
        ),
        (b"13800138000,2026-10,1,-1,1,,", "tenure_months '-1' is not a whole number ≥ 0"),
        (b"13800138000,2026-10,1,1201,1,,", "tenure_months 1201 is more than 1200"),
        (b"13800138000,2026-10,1,1,x,,", "reward_points 'x' is not a whole number ≥ 0"),
        (
            b"13800138000,2026-10,1,1,1000000001,,",
            "reward_points 1000000001 is more than 1000000000",
        ),
        (
            b"13800138000,2026-10,1,1,1,satellite,",
            "account_type 'satellite' is not one of mobile, fixed, broadband",
        ),
        (b"13800138000,2026-10,1,1,1", "expected 7 fields, found 5"),
        (b"13800138000,2026-10,1,1,1,mobile,x,extra", "expected 7 fields, found 8"),
        (b"13800138000", "expected 7 fields, found 1"),
        (b"13800138000,2026-10,1,1,1,mobile,\xff\xfe", "not valid UTF-8"),
        (b"1380013\xc380,2026-10,1,1,1,,", "not valid UTF-8"),
    ],
)
def test_bad_row_reasons(row: bytes, reason: str) -> None:
    b = bad(HEADER + row + b"\n")
    assert b == BadRow(2, reason)
    assert str(b) == f"line 2: {reason}"


def test_name_too_long() -> None:
    name = "x" * (MAX_NAME + 1)
    b = bad(HEADER + f"13800138000,2026-10,1,1,1,mobile,{name}\n".encode())
    assert b == BadRow(2, f"name is longer than {MAX_NAME} characters")


def test_mixed_file_reports_physical_line_numbers() -> None:
    """DESIGN §8: a bad row is reported with its line number, counting blank lines too."""
    lines = [
        b"msisdn,period,spend_cents,tenure_months,reward_points,account_type,name",  # 1
        b"13800138000,2026-10,100,1,0,mobile,A",  # 2 good
        b"",  # 3 blank
        b"12345,2026-10,100,1,0,mobile,B",  # 4 bad msisdn
        b"   ",  # 5 whitespace only
        b"+86 139 1234 5678,2026-10,200,12,3,fixed,C",  # 6 good
        b"13800138000,2026-11,100,1,0,mobile,D",  # 7 wrong period
        b"13800138000,2026-10,-1,1,0,mobile,E",  # 8 negative
        b"13800138000,2026-10,1,1,0,boat,F",  # 9 account type
        b"13800138000,2026-10,1,1",  # 10 field count
        b"13800138000,2026-10,1,1,0,mobile,\xe4\xb8",  # 11 truncated UTF-8 sequence
        b"",  # 12 blank
        b"",  # 13 blank
        b"008613800138000,2026-10,5,70,1,,",  # 14 good
    ]
    rows = read(b"\n".join(lines) + b"\n")
    assert [(type(r).__name__, r.line) for r in rows] == [
        ("FeedRow", 2),
        ("BadRow", 4),
        ("FeedRow", 6),
        ("BadRow", 7),
        ("BadRow", 8),
        ("BadRow", 9),
        ("BadRow", 10),
        ("BadRow", 11),
        ("FeedRow", 14),
    ]
    assert rows[1] == BadRow(4, "msisdn '12345' is not a valid phone number")
    assert rows[2] == FeedRow(6, "+8613912345678", "fixed", 200, 12, 3, "C")
    assert rows[3] == BadRow(7, "period '2026-11' does not match 2026-10")
    assert rows[6] == BadRow(10, "expected 7 fields, found 4")
    assert rows[7] == BadRow(11, "not valid UTF-8")
    assert rows[8] == FeedRow(14, E164, "mobile", 5, 70, 1, None)


def test_a_record_spanning_lines_is_reported_at_its_first_line() -> None:
    """A billing row is one line; a quoted field with a newline is refused, by its start line."""
    data = HEADER + b'13800138000,2026-10,1,1,1,mobile,"two\nlines"\n' + b"1,2026-10,1,1,1,,\n"
    rows = read(data)
    assert rows[0] == BadRow(
        2, "a quoted field runs on to line 3 (unclosed quote?); lines 2-3 not imported"
    )
    assert rows[1] == BadRow(4, "msisdn '1' is not a valid phone number")


def test_invalid_utf8_does_not_spoil_following_rows() -> None:
    data = SHORT_HEADER + b"\xff\xff\xff,2026-10,1,1,1\n13800138000,2026-10,1,1,1\n"
    assert read(data) == [BadRow(2, "not valid UTF-8"), FeedRow(3, E164, "mobile", 1, 1, 1, None)]


def test_huge_number_reason_says_too_large() -> None:
    b = bad(SHORT_HEADER + b"13800138000,2026-10,99999999999999999999,1,1\n")
    assert "more than" in b.reason


def test_oversized_field_is_reported_not_raised() -> None:
    """A field over csv.field_size_limit() is a bad row, and reading goes on."""
    data = SHORT_HEADER + b"13800138000,2026-10,1,1," + b"9" * 200_000 + b"\n"
    data += b"13800138000,2026-10,1,1,1\n"
    rows = read(data)
    assert rows == [
        BadRow(2, "unreadable CSV: field larger than field limit (131072)"),
        FeedRow(3, E164, "mobile", 1, 1, 1, None),
    ]


def test_nul_character_is_a_bad_row() -> None:
    data = SHORT_HEADER + b"13800138000,2026-10,1,1,1\x00\n13800138000,2026-10,1,1,1\n"
    assert read(data) == [
        BadRow(2, "contains a NUL character"),
        FeedRow(3, E164, "mobile", 1, 1, 1, None),
    ]


def test_unterminated_quote_is_reported_at_its_own_line() -> None:
    row = b"13800138000,2026-10,100,1,0\n"
    rows = read(SHORT_HEADER + b'"' + row * 20)
    bad_rows = [r for r in rows if isinstance(r, BadRow)]
    assert bad_rows
    assert bad_rows[0].line == 2


# ---------------------------------------------------------------- whole-file errors


def test_empty_file_raises() -> None:
    with pytest.raises(FeedError, match="empty"):
        FeedReader(io.BytesIO(b""), PERIOD)


def test_bom_only_file_raises() -> None:
    with pytest.raises(FeedError, match="empty"):
        FeedReader(io.BytesIO(b"\xef\xbb\xbf"), PERIOD)


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (b"msisdn,period,spend_cents,tenure_months\n", "reward_points"),
        (b"period,spend_cents,tenure_months,reward_points\n", "msisdn"),
        (b"msisdn,spend_cents,reward_points\n", "period, tenure_months"),
        (
            b"13800138000,2026-10,1,1,1\n",
            "msisdn, period, spend_cents, tenure_months, reward_points",
        ),
    ],
)
def test_missing_columns_raise(header: bytes, missing: str) -> None:
    with pytest.raises(FeedError) as info:
        FeedReader(io.BytesIO(header), PERIOD)
    assert str(info.value) == f"line 1: missing column(s) {missing}"


def test_unknown_columns_raise() -> None:
    header = b"msisdn,period,spend_cents,tenure_months,reward_points,city,vip\n"
    with pytest.raises(FeedError) as info:
        FeedReader(io.BytesIO(header), PERIOD)
    assert str(info.value) == "line 1: unknown column(s) city, vip"


def test_header_not_utf8_is_unknown_column() -> None:
    header = b"msisdn,period,spend_cents,tenure_months,reward_points,\xff\n"
    with pytest.raises(FeedError, match="unknown column"):
        FeedReader(io.BytesIO(header), PERIOD)


# ---------------------------------------------------------------- progress


def test_bytes_read_reaches_file_size() -> None:
    row = b"13800138000,2026-10,12345,13,5,mobile,Zhang San\n"
    data = HEADER + row * 10_000  # ~500 KB, several 64 KiB buffers
    reader = FeedReader(io.BytesIO(data), PERIOD)
    assert 0 < reader.bytes_read <= len(data)
    seen: list[int] = []
    n = 0
    for item in reader:
        assert isinstance(item, FeedRow)
        n += 1
        seen.append(reader.bytes_read)
    assert n == 10_000
    assert seen == sorted(seen)
    assert seen[0] < len(data)  # progress is real, not everything up front
    assert reader.bytes_read == len(data)


def test_bytes_read_small_file() -> None:
    data = SHORT_HEADER + b"13800138000,2026-10,1,1,1\n\n\n"
    reader = FeedReader(io.BytesIO(data), PERIOD)
    assert len(list(reader)) == 1
    assert reader.bytes_read == len(data)


def test_repeated_header_columns_are_refused() -> None:
    with pytest.raises(FeedError, match="repeated column"):
        FeedReader(
            io.BytesIO(b"msisdn,msisdn,period,spend_cents,tenure_months,reward_points\n"), PERIOD
        )


def test_blank_lines_before_the_header_are_skipped() -> None:
    rows = read(b"\n\n" + SHORT_HEADER + b"13800138000,2026-10,1,1,1\n")
    assert rows == [FeedRow(4, E164, "mobile", 1, 1, 1, None)]


def test_a_name_with_a_control_character_is_a_bad_row() -> None:
    assert bad(HEADER + b"13800138000,2026-10,1,1,1,mobile,a\x07b\n") == BadRow(
        2, "name contains a control character"
    )


# ---------------------------------------------------------------- the quick path


def _forms(canonical: str, *others: str) -> st.SearchStrategy[str]:
    """A field: half the time in canonical form, else one of ``others``."""
    return st.one_of(st.just(canonical), st.sampled_from(others))


_NUMBER = (
    "0", "7", "0012", " 5", "-1", "1.5", "٣", "²", "999", "1200", "1201", "", "999999999",
    "1000000000", "1000000001", "999999999999", "1000000000000", "0000000000001",
    "00000000000000000005",
)  # fmt: skip
_ROW = st.tuples(
    _forms(
        "13800138000",
        "+8613800138000",
        " 13800138000",
        "138 0013 8000",
        "01022716860",
        "0102271686",
        "008613800138000",
        "1380013800",
        "+16502530000",
        "12345",
        "",
    ),
    _forms("2026-10", " 2026-10", "2026-11", ""),
    _forms("12345", *_NUMBER),
    _forms("13", *_NUMBER),
    _forms("0", *_NUMBER),
    _forms("mobile", "", "fixed", "broadband", "Mobile", " fixed", "boat"),
    _forms("张三", "", " 张三", "a\x07b", "x" * MAX_NAME, "x" * (MAX_NAME + 1), "  "),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_ROW, min_size=1, max_size=8))
def test_the_quick_path_agrees_with_the_full_check(rows: list[tuple[str, ...]]) -> None:
    """Issue 15 §3: ``rows()`` takes a row in canonical form with a few string tests; what
    it gives for every row is what the full check (``check``) gives."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    reader = FeedReader(io.BytesIO(HEADER + out.getvalue().encode()), PERIOD)
    full = [reader.check(line, list(fields)) for line, fields in enumerate(rows, start=2)]
    assert list(reader.rows()) == full
