"""Signed callback_data: round trip, 64-byte limit, forgeries and stale buttons refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.callbacks import MAX_BYTES, CallbackCodec, CallbackTooLong
from core.platform.clock import ManualClock
from core.platform.codes import Keyring


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))


@pytest.fixture
def codec(clock: ManualClock) -> CallbackCodec:
    return CallbackCodec(Keyring.single(b"k" * 32), clock)


def test_round_trip_within_64_bytes(codec: CallbackCodec) -> None:
    data = codec.encode("g LP 12")
    assert len(data.encode()) <= MAX_BYTES
    assert codec.decode(data) == "g LP 12"


def test_too_long_a_payload_is_refused(codec: CallbackCodec) -> None:
    with pytest.raises(CallbackTooLong):
        codec.encode("c SS " + "X" * 60)
    assert not codec.fits("c SS " + "X" * 60)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d[:-1] + ("2" if d[-1] != "2" else "3"),
        lambda d: "0" * 16 + d[16:],
        lambda d: d.split(".", 1)[1],
        lambda d: "",
        lambda d: "....",
    ],
)
def test_tampered_data_decodes_to_none(codec: CallbackCodec, tamper: object) -> None:
    assert callable(tamper)
    assert codec.decode(tamper(codec.encode("g LP 1"))) is None


def test_another_key_does_not_accept_it(codec: CallbackCodec, clock: ManualClock) -> None:
    other = CallbackCodec(Keyring.single(b"o" * 32), clock)
    assert other.decode(codec.encode("h")) is None


def test_buttons_go_stale(codec: CallbackCodec, clock: ManualClock) -> None:
    data = codec.encode("h")
    clock.advance(timedelta(days=6))
    assert codec.decode(data) == "h"
    clock.advance(timedelta(days=2))
    assert codec.decode(data) is None
