"""How many SMS segments a text costs (3GPP TS 23.038 / 23.040).

A text that fits the GSM 03.38 default alphabet is sent as GSM-7: 160 septets in
one segment, 153 per part when concatenated; the extension characters
(``^{}\\[~]|€`` and form feed) take two septets each. Anything else is sent as
UCS-2: 70 UTF-16 code units in one segment, 67 per part; characters outside the
Basic Multilingual Plane (most emoji) take two units.
"""

from __future__ import annotations

from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]


def encoding(text: str) -> Encoding:
    return "GSM-7" if _GSM7_ALL.issuperset(text) else "UCS-2"


def _unit(c: str, enc: Encoding) -> int:
    if enc == "GSM-7":
        return 2 if c in GSM7_EXTENSION else 1
    return 2 if ord(c) > 0xFFFF else 1


def length(text: str) -> int:
    """Septets for GSM-7 text, UTF-16 code units for UCS-2 text."""
    if encoding(text) == "GSM-7":
        return len(text) + sum(1 for c in text if c in GSM7_EXTENSION)
    return len(text.encode("utf-16-le")) // 2


def limits(enc: Encoding) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_PART) if enc == "GSM-7" else (UCS2_SINGLE, UCS2_PART)


def split(text: str) -> list[str]:
    """Split into the parts a handset would receive, never inside an escape or surrogate pair."""
    if not text:
        return []
    enc = encoding(text)
    single, part = limits(enc)
    if length(text) <= single:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for c in text:
        u = _unit(c, enc)
        if used + u > part:
            parts.append("".join(current))
            current, used = [], 0
        current.append(c)
        used += u
    if current:
        parts.append("".join(current))
    return parts


def count(text: str) -> int:
    if not text:
        return 0
    if length(text) <= limits(encoding(text))[0]:
        return 1
    return len(split(text))


def fits(text: str, budget: int) -> bool:
    return count(text) <= budget


def capacity(enc: Encoding, budget: int) -> int:
    single, part = limits(enc)
    return single if budget == 1 else part * budget


def truncate(text: str, budget: int) -> str:
    """Shorten ``text`` to fit ``budget`` segments, marking the cut without changing encoding.

    The longest prefix that still fits with the mark is found by bisection, using
    the same packing as ``split`` (a character that straddles a part boundary
    moves whole to the next part, so raw capacity would over-count).
    """
    if fits(text, budget):
        return text
    mark = "..." if encoding(text) == "GSM-7" else "…"
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid] + mark, budget):
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + mark
