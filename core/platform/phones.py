"""Phone numbers arrive in any form (13912345678, +86 139…, 008613…) and are kept as E.164."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from core.platform.errors import InvalidPhoneNumber

_SEPARATORS = str.maketrans("", "", " -().\u00a0")


def to_e164(raw: str, region: str = "CN") -> str:
    """Like ``parse_e164``, cached: the same senders text again and again."""
    return _cached_e164(raw, region)


def parse_e164(raw: str, region: str = "CN") -> str:
    """Return the E.164 form of ``raw``, read as a number of ``region`` when it has no prefix.

    ``00`` followed by a country code is the international prefix used in China
    and most of the world; phonenumbers only knows it per region, so it is
    rewritten to ``+`` first. Parsing costs ~20 µs; a billing feed, where every
    number appears once, calls this uncached version.
    """
    text = raw.strip().translate(_SEPARATORS)
    if text.startswith("00") and len(text) > 4:
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None


_cached_e164 = lru_cache(maxsize=16_384)(parse_e164)


def mask(msisdn: str) -> str:
    """A customer's number as the merchant sees it: +86138****8000."""
    return msisdn[:-8] + "****" + msisdn[-4:] if len(msisdn) > 8 else "****"
