"""Secrets handed to people (confirm codes, voucher passwords, QR tokens) and their keyed hashes.

Only keyed hashes (HMAC-SHA256 under the installation's secret key) are stored:
a 6- or 8-digit code has too few possibilities for a plain hash to protect it.
Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

OTP_DIGITS = 6
VOUCHER_PASSWORD_DIGITS = 8
TOKEN_BYTES = 16


def digits(n: int) -> str:
    return f"{secrets.randbelow(10**n):0{n}d}"


def token() -> str:
    """An opaque, URL-safe token of 128 random bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class Keyring:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the secret key must be at least 16 bytes")
        self._key = key

    def digest(self, purpose: str, *parts: str) -> str:
        message = "\x1f".join((purpose, *parts)).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def matches(self, stored: str, purpose: str, *parts: str) -> bool:
        return hmac.compare_digest(stored.encode(), self.digest(purpose, *parts).encode())
