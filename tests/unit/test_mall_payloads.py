"""Every browsing payload fits Telegram's 64 bytes of ``callback_data`` once signed and
stamped, whatever the codes, ids and keywords (issue 5, §2.2.6–2.2.7)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot import mall_screens as ms
from bot.callbacks import MAX_BYTES, CallbackCodec
from core.platform.clock import ManualClock
from core.platform.codes import Keyring

LATE = ManualClock(datetime(2089, 1, 1, tzinfo=UTC))
"""The hour stamp has 6 hex digits from 2089 on; payloads must still fit."""
CODEC = CallbackCodec(Keyring.single(b"k" * 32), LATE)
CODES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=16)
IDS = st.integers(min_value=0, max_value=2**63 - 1)
PAGES = st.integers(min_value=1, max_value=10_000)


def fits(payload: str) -> bool:
    return len(CODEC.encode(payload).encode()) <= MAX_BYTES


@given(code=CODES, page=PAGES)
def test_item_payloads_fit(code: str, page: int) -> None:
    for payload in (
        f"x {code}",
        f"F {code}",
        f"q {code}",
        f"Q {code}",
        f"a {code}",
        f"r {code}",
        f"u {code} {page}",
    ):
        assert fits(payload), payload


@given(cat=IDS, brand=IDS, sort=st.sampled_from(sorted(ms.SORTS)), page=PAGES)
def test_goods_list_payloads_fit(cat: int, brand: int, sort: str, page: int) -> None:
    assert fits(f"l {ms.b36(cat)} {ms.b36(brand)} {sort} {page}")
    assert ms.from_b36(ms.b36(cat)) == cat
    assert fits(f"B {ms.b36(cat)} {sort}")


@given(keyword=st.text(min_size=0, max_size=200), page=PAGES)
def test_search_payloads_fit_by_cutting_the_keyword(keyword: str, page: int) -> None:
    cut = ms.cut_keyword(keyword)
    assert fits(f"s {page} {cut}")
    assert keyword.split() == [] or " ".join(keyword.split()).startswith(cut)


@given(ident=IDS, tab=st.sampled_from(sorted(ms.TABS)), page=PAGES)
def test_content_payloads_fit(ident: int, tab: str, page: int) -> None:
    for payload in (
        f"v {ident}",
        f"b {ident}",
        f"n {ident}",
        f"p {tab} {page}",
        f"f {page}",
        f"y {page}",
    ):
        assert fits(payload), payload
