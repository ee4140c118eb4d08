"""Phone numbers in any form are stored as E.164 (DESIGN §6, §1 feed msisdn)."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.platform.errors import DomainError, InvalidPhoneNumber
from core.platform.phones import canonical_e164, region_of, to_e164


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+8613800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "+86 (138) 0013.8000",
        "008613800138000",
        "0086 138 0013 8000",
        "  13800138000\n",
        "138\u00a00013\u00a08000",
        "１３８００１３８０００",  # full-width digits
    ],
)
def test_cn_mobile_forms(raw: str) -> None:
    assert to_e164(raw) == "+8613800138000"


def test_cn_fixed_line() -> None:
    assert to_e164("010 12345678") == "+861012345678"
    assert to_e164("+86 10 1234 5678") == "+861012345678"


def test_other_countries_with_00_prefix_and_plus() -> None:
    assert to_e164("0044 20 7946 0958") == "+442079460958"
    assert to_e164("+1 650 253 0000") == "+16502530000"


def test_region_decides_national_numbers() -> None:
    assert to_e164("(650) 253-0000", region="US") == "+16502530000"
    with pytest.raises(InvalidPhoneNumber):
        to_e164("(650) 253-0000", region="CN")


@pytest.mark.parametrize(
    "raw",
    [
        "10086",  # China Mobile service short code
        "95588",  # bank short code
        "12345",
        "1380013800",  # one digit short
        "138001380001",  # one digit long
        "abc",
        "",
        "   ",
        "+",
        "+86",
        "0086",
        "00",
        "12345678901234567890",
        "+999 1234567",
        "hello 13800138000 world",
    ],
)
def test_invalid_numbers_raise(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as info:
        to_e164(raw)
    assert info.value.raw == raw
    assert isinstance(info.value, DomainError)


def test_region_of() -> None:
    assert region_of("+8613800138000") == "CN"
    assert region_of("+16502530000") == "US"
    assert region_of("+442079460958") == "GB"
    assert region_of("abc") is None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["138", "139", "186", "150"]), st.text("0123456789", min_size=8, max_size=8))
def test_every_form_of_a_cn_mobile_agrees(prefix: str, rest: str) -> None:
    national = prefix + rest
    expected = "+86" + national
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    for raw in (national, "+86" + national, "0086" + national, "+86 " + spaced, spaced):
        assert to_e164(raw) == expected
    assert to_e164(expected) == expected  # idempotent


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_garbage_raises_only_invalid_phone_number(raw: str) -> None:
    try:
        result = to_e164(raw)
    except InvalidPhoneNumber:
        return
    assert result.startswith("+")
    assert result[1:].isdigit()
    assert to_e164(result) == result


def _by_phonenumbers(text: str, region: str) -> str:
    """What the full parser makes of ``text``: its E.164 form, or "" when invalid."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_CANONICAL = st.one_of(
    st.text("0123456789", min_size=1, max_size=18),
    st.builds(
        lambda p, r: p + r,
        st.sampled_from(
            ["1", "13", "17951", "0", "86", "10", "400", "010", "00", "01", "09", "011", "0179"]
        ),
        st.text("0123456789", min_size=0, max_size=12),
    ),
    st.builds(
        lambda p, r: "+" + p + r,
        st.sampled_from(["86", "8617951", "860", "44", "1", "49", "91", "7", "999", "852", "886"]),
        st.text("0123456789", min_size=0, max_size=13),
    ),
)


@settings(max_examples=3000, deadline=None)
@given(
    _CANONICAL,
    st.sampled_from(["CN", "US", "GB", "DE", "IN", "HK", "BR", "JP", "AR", "MX", "RU", "FR"]),
)
def test_canonical_fast_path_agrees_with_phonenumbers(text: str, region: str) -> None:
    """Issue 15 §3: the billing feed's fast path for numbers in canonical form gives
    phonenumbers' own answer (or steps aside, None, for the parser)."""
    fast = canonical_e164(text, region)
    if fast is not None:
        assert fast == _by_phonenumbers(text, region)


def test_canonical_fast_path_takes_national_and_e164_forms() -> None:
    assert canonical_e164("13800138000") == "+8613800138000"
    assert canonical_e164("+8613800138000", "US") == "+8613800138000"
    assert canonical_e164("1380013800") == ""  # a digit short: invalid without parsing
    # prefixes the parser would strip or read are left to it
    assert canonical_e164("17951380013800") is None
    assert canonical_e164("0013800138000") is None  # 00: the international prefix
    assert canonical_e164("+16502530000") is None  # +1 is shared by many regions


def test_canonical_fast_path_takes_the_trunk_prefix() -> None:
    """A national number written with the trunk prefix (China's 0, as fixed lines are
    printed) is what the parser makes of it, without the parser."""
    assert canonical_e164("01022716860") == "+861022716860"
    assert canonical_e164("013800138000") == "+8613800138000"
    assert canonical_e164("01022716860") == _by_phonenumbers("01022716860", "CN")
    assert canonical_e164("0102271686") is None  # a digit short: left to the parser
