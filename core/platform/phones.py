"""Phone numbers arrive in any form (13912345678, +86 139…, 008613…) and are kept as E.164."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata

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
    number appears once, calls this uncached version, and numbers already in a canonical
    form (``+`` and digits, or the region's national digits without a prefix) are
    checked against phonenumbers' own metadata without parsing (``canonical_e164``).
    Raises ``InvalidPhoneNumber``.
    """
    text = raw.strip().translate(_SEPARATORS)
    if text.startswith("00") and len(text) > 4:
        text = "+" + text[2:]
    fast = canonical_e164(text, region)
    if fast is not None:
        if not fast:
            raise InvalidPhoneNumber(raw)
        return fast
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


# ------------------------------------------------------------- the canonical fast path

_DIGITS = re.compile(r"\+?[1-9][0-9]{1,16}")
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _lengths(lengths: frozenset[int]) -> str:
    """A lookahead that holds when the rest of the text has one of ``lengths`` (any if none)."""
    if not lengths:
        return ""
    return "(?=(?:" + "|".join(f"[0-9]{{{n}}}" for n in sorted(lengths)) + r")\Z)"


@dataclass(frozen=True, slots=True)
class _Region:
    """What phonenumbers checks to call a national significant number valid in a region,
    as one regular expression: within the general description's lengths and pattern, and
    within one number type's lengths and pattern."""

    code: str
    country_code: str
    prefixed: re.Pattern[str]
    """Starts with a national, carrier or international prefix that parsing strips or reads."""
    valid: re.Pattern[str]
    trunk: str | None
    """The national (trunk) prefix when parsing strips it as it is (CN's ``0``), else None."""
    for_parsing: re.Pattern[str]
    international: re.Pattern[str]
    general: re.Pattern[str]
    """The general description's pattern alone (phonenumbers' "viable" test)."""
    lengths: frozenset[int]
    """The general description's possible lengths, less the local-only ones."""


def _desc(desc: object) -> str | None:
    """``desc`` as a pattern that must match the whole rest of the text."""
    pattern: str | None = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    lengths = frozenset(getattr(desc, "possible_length", ()) or ())
    return _lengths(lengths) + "(?:" + pattern + r")\Z"


@lru_cache(maxsize=64)
def _region(code: str) -> _Region | None:
    meta = PhoneMetadata.metadata_for_region(code.upper())
    if meta is None or meta.country_code is None:
        return None
    general = _desc(meta.general_desc)
    types = [d for d in (_desc(getattr(meta, name)) for name in _TYPES) if d is not None]
    if general is None or not types:
        return None
    prefixes = (meta.national_prefix_for_parsing, meta.national_prefix, meta.international_prefix)
    prefixed = re.compile("|".join(f"(?:{p})" for p in prefixes if p) or "(?!)")
    valid = re.compile("(?=" + general + ")(?:" + "|".join(f"(?:{t})" for t in types) + ")")
    trunk = meta.national_prefix or None
    if not (trunk and trunk.isdigit() and meta.national_prefix_for_parsing):
        trunk = None
    gd = meta.general_desc
    assert gd is not None  # general is not None
    return _Region(
        code.upper(),
        str(meta.country_code),
        prefixed,
        valid,
        trunk,
        re.compile(meta.national_prefix_for_parsing or "(?!)"),
        re.compile(meta.international_prefix or "(?!)"),
        re.compile("(?:" + (gd.national_number_pattern or "(?!)") + r")\Z"),
        frozenset(gd.possible_length or ()) - frozenset(gd.possible_length_local_only or ()),
    )


@lru_cache(maxsize=1024)
def _region_of_country_code(country_code: str) -> _Region | None:
    """The region of a calling code that has exactly one (CN, GB…); None for shared ones."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(country_code), ())
    if len(regions) != 1 or regions[0] == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return None
    return _region(regions[0])


def canonical_e164(text: str, region: str = "CN") -> str | None:
    """Check a number already in canonical form without parsing it: its E.164 form,
    ``""`` when phonenumbers would call it invalid, or None when it is not canonical
    (the caller parses it with phonenumbers).

    Canonical is ``+`` + a calling code of one region + a national significant number, or
    the national significant number alone of a default ``region`` that has its calling
    code to itself; either way ASCII digits
    that no national, carrier or international prefix of that region could start (those
    the full parser strips). Validity is phonenumbers' own rule on its own metadata: the
    number matches the region's general pattern and the pattern of one number type, each
    within its possible lengths.
    """
    if not _DIGITS.fullmatch(text):
        return _trunk_prefixed(text, region)
    if text[0] == "+":
        digits = text[1:]
        for width in (1, 2, 3):
            found = _region_of_country_code(digits[:width])
            if found is not None:
                break
            if int(digits[:width]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return None  # a calling code shared by several regions (+1, +7…)
        else:
            return None
        nsn = digits[width:]
    else:
        found = _region(region)
        if found is None or text.startswith(found.country_code):
            return None
        if _region_of_country_code(found.country_code) is None:
            return None  # +1: a US national number may be valid as Canada's
        nsn = text
    if nsn[:1] in ("", "0") or found.prefixed.match(nsn):
        return None
    return "+" + found.country_code + nsn if found.valid.match(nsn) else ""


def _trunk_prefixed(text: str, region: str) -> str | None:
    """``canonical_e164`` of a national number written with the region's trunk prefix
    (``010 …`` in China): what phonenumbers makes of it when it strips exactly that
    prefix and the rest is a valid number (None otherwise: the parser decides)."""
    if not (text[:1] == "0" and 2 < len(text) <= 18 and text.isdigit() and text.isascii()):
        return None
    found = _region(region)
    if found is None or found.trunk is None or not text.startswith(found.trunk):
        return None
    if _region_of_country_code(found.country_code) is None or found.international.match(text):
        return None
    prefix = found.for_parsing.match(text)
    if prefix is None or prefix.group(0) != found.trunk:
        return None
    if prefix.re.groups and prefix.groups()[-1] is not None:
        return None  # a carrier code, or a prefix parsing rewrites
    nsn = text[len(found.trunk) :]
    if found.general.match(text) and not found.general.match(nsn):
        return None  # phonenumbers keeps the prefix
    if len(nsn) not in found.lengths or nsn[:1] in ("", "0") or not found.valid.match(nsn):
        return None
    return "+" + found.country_code + nsn
