"""The installation's root keys, as an operator keeps them outside the database (issue 13 §2).

A root key is 32 random bytes with a key id, ``k1``, ``k2``… (the newest number is the
*current* key; the older ones only verify). Its text form, one key per line, is what a
key file or ``POINTSHALL_SECRET_KEY`` holds::

    k1:3q2+7w…   (URL-safe base64 of the 32 bytes)
    k2:Zm9vYm…

``k0`` is reserved for the one key an installation had before key ids existed (kept in
``app_secret.hash_key``, or a raw ``POINTSHALL_SECRET_KEY``): hashes made under it carry no
key id and it is used exactly as it was (no HKDF), so they keep verifying; it never makes
anything new. The subkeys per purpose are derived in ``core.platform.codes.Keyring``.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

KEY_BYTES = 32
LEGACY_ID = "k0"
LEGACY_MIN_BYTES = 16
_ENTRY = re.compile(r"(k(?:0|[1-9][0-9]{0,3})):([A-Za-z0-9_\-]+={0,2})")
_SEPARATORS = re.compile(r"[\s,]+")


class KeyFormatError(ValueError):
    """Text that is not a list of ``kN:base64`` keys; the message never contains key bytes."""


@dataclass(frozen=True)
class RootKey:
    kid: str
    """``k0`` (the key from before key ids) or ``k1``, ``k2``…"""
    secret: bytes = field(repr=False)

    @property
    def number(self) -> int:
        return int(self.kid[1:])

    @property
    def legacy(self) -> bool:
        return self.kid == LEGACY_ID


def parse(text: str) -> tuple[RootKey, ...]:
    """The keys in ``text`` (whitespace, comma or newline separated; ``#`` starts a comment).

    Raises ``KeyFormatError`` for anything else, a repeated key id, a ``k1``+ key that is
    not ``KEY_BYTES`` bytes or a ``k0`` key shorter than ``LEGACY_MIN_BYTES``.
    """
    lines = (line.split("#", 1)[0] for line in text.splitlines())
    entries = [e for line in lines for e in _SEPARATORS.split(line) if e]
    if not entries:
        raise KeyFormatError("no key in it")
    keys: dict[str, RootKey] = {}
    for number, entry in enumerate(entries, 1):
        matched = _ENTRY.fullmatch(entry)
        if matched is None:
            raise KeyFormatError(
                f"entry {number} is not kN:base64 (make keys with `pointshall key new`)"
            )
        kid, encoded = matched.groups()
        try:
            secret = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise KeyFormatError(f"key {kid} is not URL-safe base64") from None
        if kid == LEGACY_ID and len(secret) < LEGACY_MIN_BYTES:
            raise KeyFormatError(f"key {kid} is shorter than {LEGACY_MIN_BYTES} bytes")
        if kid != LEGACY_ID and len(secret) != KEY_BYTES:
            raise KeyFormatError(f"key {kid} is {len(secret)} bytes, not {KEY_BYTES}")
        if kid in keys:
            raise KeyFormatError(f"key id {kid} appears twice")
        keys[kid] = RootKey(kid, secret)
    return tuple(sorted(keys.values(), key=lambda k: k.number))


def render(keys: Iterable[RootKey]) -> str:
    """The text form of ``keys``, one per line, oldest first, ending in a newline."""
    return "".join(
        f"{k.kid}:{base64.urlsafe_b64encode(k.secret).decode().rstrip('=')}\n"
        for k in sorted(keys, key=lambda k: k.number)
    )


def new_key(number: int = 1) -> RootKey:
    """A fresh random key ``k<number>`` (``number`` ≥ 1)."""
    if number < 1:
        raise ValueError("new keys are k1 or later; k0 is the key from before key ids")
    return RootKey(f"k{number}", secrets.token_bytes(KEY_BYTES))


def rotated(keys: Sequence[RootKey]) -> tuple[RootKey, ...]:
    """``keys`` plus a new current key, numbered one past the newest."""
    newest = max((k.number for k in keys), default=0)
    return (*keys, new_key(newest + 1))


def legacy(secret: bytes) -> RootKey:
    """The key an installation had before key ids, as ``k0``."""
    return RootKey(LEGACY_ID, secret)
