"""Secrets handed to people (confirm codes, voucher passwords, QR tokens) and the keyring
that hashes, signs and seals them (issue 13 §2).

Only keyed hashes are stored: a 6- or 8-digit code has too few possibilities for a
plain hash to protect it. Every key used is a subkey derived with HKDF-SHA256 from one
of the installation's root keys (``core.platform.keys``) for one purpose, so a key for
console cookies is never a key for voucher passwords. A stored hash carries the id of
the root key it was made under (``k2$…``), so after a rotation new hashes use the new
key and old ones still verify while the old key is kept. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.platform.keys import KEY_BYTES, LEGACY_ID, RootKey

OTP_DIGITS = 6
VOUCHER_PASSWORD_DIGITS = 8
TOKEN_BYTES = 16
STORED_CHARS = 64
"""A stored keyed hash: ``<key id>$`` and the leading hex digits of the HMAC, 64 in all
(the width of the columns that hold them; still more than 240 bits of HMAC-SHA256)."""
_TAGGED = re.compile(r"(k(?:0|[1-9][0-9]{0,3}))\$")
_NONCE_BYTES = 12


def digits(n: int) -> str:
    return f"{secrets.randbelow(10**n):0{n}d}"


def token() -> str:
    """An opaque, URL-safe token of 128 random bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def mask(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each of ``secrets`` (where it stands as a word of its own: not inside a
    longer number or word) replaced by as many asterisks (issue 13 §1)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = re.sub(
            rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", "*" * len(secret), text
        )
    return text


class UnknownKey(LookupError):
    """A value made under a root key this installation no longer holds."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"root key {kid} is not in the keyring")
        self.kid = kid


class SealError(ValueError):
    """A sealed value that does not open: unknown key, altered, or not sealed by us."""


def key_id(stored: str) -> str:
    """The root key id a stored hash or sealed value was made under (``k0``: none given)."""
    tagged = _TAGGED.match(stored)
    return tagged.group(1) if tagged else LEGACY_ID


class Keyring:
    """Keyed hashes, MACs and sealed values under the installation's root keys.

    The newest ``k1``+ key is *current*: everything new is made under it. Every key
    verifies. ``k0`` (the key from before key ids) is used as it was, HMAC straight
    under the root key with the purpose in the message, so its old hashes still verify.
    """

    def __init__(self, keys: Sequence[RootKey]) -> None:
        self._keys = {k.kid: k for k in keys}
        current = max((k for k in keys if not k.legacy), key=lambda k: k.number, default=None)
        if current is None:
            raise ValueError("the keyring needs a current key (k1 or later)")
        if len(current.secret) < KEY_BYTES:
            raise ValueError(f"a root key must be {KEY_BYTES} bytes")
        self._current = current
        self._subkeys: dict[tuple[str, str], bytes] = {}

    @classmethod
    def single(cls, secret: bytes) -> Keyring:
        """A keyring of one key ``k1`` (tests, tools)."""
        return cls([RootKey("k1", secret)])

    @property
    def current_id(self) -> str:
        return self._current.kid

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id held, oldest first."""
        return tuple(sorted(self._keys, key=lambda kid: int(kid[1:])))

    def subkey(self, purpose: str, kid: str | None = None) -> bytes:
        """32 bytes for ``purpose`` derived with HKDF-SHA256 from root key ``kid``
        (default the current one). Raises ``UnknownKey``; ``k0`` has no subkeys."""
        root = self._root(kid)
        if root.legacy:
            raise UnknownKey(root.kid)
        found = self._subkeys.get((root.kid, purpose))
        if found is None:
            hkdf = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=f"pointshall/{purpose}".encode(),
            )
            found = self._subkeys[(root.kid, purpose)] = hkdf.derive(root.secret)
        return found

    def mac(self, purpose: str, *parts: str, kid: str | None = None) -> str:
        """HMAC-SHA256 (hex) of ``parts`` under ``purpose``'s subkey of root key ``kid``
        (default current): for values recomputed rather than stored (a terminal's key,
        a pay-link token). Raises ``UnknownKey``."""
        root = self._root(kid)
        message = "\x1f".join((purpose, *parts)).encode()
        secret = root.secret if root.legacy else self.subkey(purpose, root.kid)
        return hmac.new(secret, message, hashlib.sha256).hexdigest()

    def mac_matches(self, value: str, purpose: str, *parts: str, chars: int) -> bool:
        """Whether ``value`` is the first ``chars`` hex digits of ``mac`` under any key held."""
        if len(value) != chars:
            return False
        sent = value.encode("utf-8", "replace")
        return any(
            hmac.compare_digest(sent, self.mac(purpose, *parts, kid=kid)[:chars].encode())
            for kid in self._keys
        )

    def digest(self, purpose: str, *parts: str) -> str:
        """The stored form of a keyed hash under the current key: ``k2$`` + hex, 64 chars."""
        return self._tagged(self._current.kid, purpose, parts)

    def digests(self, purpose: str, *parts: str) -> list[str]:
        """The stored form under every key held: what to look a hash up by (``IN``)."""
        return [self._tagged(kid, purpose, parts) for kid in self._keys]

    def matches(self, stored: str, purpose: str, *parts: str) -> bool:
        """Whether ``stored`` (made by ``digest``, under any key held) is ``parts``' hash."""
        kid = key_id(stored)
        if kid not in self._keys:
            return False
        return hmac.compare_digest(stored.encode(), self._tagged(kid, purpose, parts).encode())

    def seal(self, purpose: str, plaintext: str) -> str:
        """``plaintext`` encrypted and authenticated (AES-256-GCM under ``purpose``'s subkey of
        the current key): ``k2$`` + URL-safe base64 of nonce and ciphertext."""
        nonce = os.urandom(_NONCE_BYTES)
        box = AESGCM(self.subkey(f"seal:{purpose}"))
        sealed = box.encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{self._current.kid}${base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def unseal(self, purpose: str, sealed: str) -> str:
        """What ``seal(purpose, …)`` sealed. Raises ``SealError``."""
        kid = key_id(sealed)
        if kid not in self._keys or kid == LEGACY_ID or not sealed.startswith(f"{kid}$"):
            raise SealError(f"sealed under a key this keyring does not hold ({kid})")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(kid) + 1 :])
            box = AESGCM(self.subkey(f"seal:{purpose}", kid))
            return box.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode()).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise SealError("the sealed value does not open") from None

    def _root(self, kid: str | None) -> RootKey:
        if kid is None:
            return self._current
        found = self._keys.get(kid)
        if found is None:
            raise UnknownKey(kid)
        return found

    def _tagged(self, kid: str, purpose: str, parts: Sequence[str]) -> str:
        full = self.mac(purpose, *parts, kid=kid)
        if kid == LEGACY_ID:
            return full  # as it was stored before key ids
        return f"{kid}${full[: STORED_CHARS - len(kid) - 1]}"
