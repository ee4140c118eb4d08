"""``inbound.storable``: what every database can store, the record never lost (issue 13
§6); its ASCII fast path (issue 15 §2) must give what the general path gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.messaging.inbound import storable


def general(text: str, limit: int) -> str:
    clean = text[:limit].replace("\x00", "\ufffd")
    return clean.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@given(st.text(), st.integers(min_value=0, max_value=50))
def test_storable_is_the_general_cleaning(text: str, limit: int) -> None:
    assert storable(text, limit) == general(text, limit)


@given(st.text(alphabet=st.characters(max_codepoint=127)), st.integers(0, 50))
def test_ascii_text_keeps_all_but_nul(text: str, limit: int) -> None:
    assert storable(text, limit) == text[:limit].replace("\x00", "\ufffd")


def test_examples() -> None:
    assert storable("JF\x00", 10) == "JF\ufffd"
    assert storable("积分\ud800", 10) == "积分\ufffd"
    assert storable("abcdef", 3) == "abc"
