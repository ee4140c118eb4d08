"""Payment methods, prices and callback signatures (§3.5.6, DESIGN §5): pure rules."""

from __future__ import annotations

import pytest

from core.catalogue.errors import MethodNotOffered
from core.catalogue.pay_methods import amounts, check, parse
from core.payments.gateway import sign, verify
from handlers.commands import BadArguments, Redeem
from handlers.grammar import parse as parse_sms

SECRET = b"s3cret"
ALL = ("points", "points_cash", "cash", "phone_bill", "online_bank")


def test_parse_methods() -> None:
    assert parse(None) == ("points",)
    assert parse("") == ("points",)
    assert parse(" Points , points_cash,points ") == ("points", "points_cash")
    with pytest.raises(ValueError, match="bitcoin"):
        parse("points,bitcoin")


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("points", (3000, 0)),
        ("points_cash", (3000, 1500)),
        ("cash", (0, 4500)),
        ("phone_bill", (0, 4500)),
        ("online_bank", (0, 4500)),
    ],
)
def test_amounts_by_method(method: str, expected: tuple[int, int]) -> None:
    got = amounts(code="X", offered=ALL, method=method, points=1000, cash_cents=(500, 1500), qty=3)
    assert got == expected


def test_a_method_not_offered_or_without_a_price_is_refused() -> None:
    with pytest.raises(MethodNotOffered) as caught:
        amounts(code="X", offered=("points",), method="cash", points=1, cash_cents=(None, 9), qty=1)
    assert caught.value.offered == ("points",)
    with pytest.raises(MethodNotOffered):
        amounts(code="X", offered=ALL, method="points_cash", points=1, cash_cents=None, qty=1)
    with pytest.raises(MethodNotOffered):
        amounts(code="X", offered=ALL, method="cash", points=1, cash_cents=(5, None), qty=1)


def test_check_names_the_missing_price() -> None:
    assert check(("points",), None, None) is None
    assert check(("points_cash",), None, None) == "points_cash needs cash_cents"
    assert check(("cash",), 5, None) is not None
    assert check(tuple(m for m in ALL if m != "points"), 5, 10) is None
    assert check(ALL, 5, 10) == "points and points_cash share the points price: offer one of them"


def test_signature_round_trip_and_refusals() -> None:
    body = b'{"type":"charge.succeeded"}'
    header = sign(SECRET, 1000, body)
    assert header.startswith("t=1000,v1=")
    assert verify(SECRET, header, body, 1000)
    assert verify(SECRET, header, body, 1300)  # within tolerance
    assert not verify(SECRET, header, body, 1301)  # too old: a replay
    assert not verify(SECRET, header, body + b" ", 1000)
    assert not verify(b"other", header, body, 1000)
    for bad in (None, "", "t=x,v1=00", "v1=00", "t=1000", "garbage"):
        assert not verify(SECRET, bad, body, 1000)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("DH 5001", Redeem("5001", 1, "points")),
        ("DH 5001 2", Redeem("5001", 2, "points")),
        ("DH 5001 XJ", Redeem("5001", 1, "points_cash")),
        ("dh 5001 2 xj", Redeem("5001", 2, "points_cash")),
        ("DH 5001 1 HF", Redeem("5001", 1, "phone_bill")),
        ("DH 5001 1 WY", Redeem("5001", 1, "online_bank")),
        ("DH 5001 1 QK", Redeem("5001", 1, "cash")),
        ("兑换5001 1 现金", Redeem("5001", 1, "cash")),
        ("DH HF", Redeem("HF", 1, "points")),  # an item code, not a method
    ],
)
def test_dh_takes_a_method_word(text: str, command: Redeem) -> None:
    assert parse_sms(text) == command


def test_dh_with_too_many_words_is_bad() -> None:
    assert parse_sms("DH 5001 1 XJ XJ") == BadArguments("DH")
