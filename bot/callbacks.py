"""``callback_data`` that cannot be forged or replayed forever: signed, stamped, ≤ 64 bytes.

The data is ``<signature>.<hour stamp>.<payload>``: the signature is the first
64 bits of an HMAC (the installation's keyring) over stamp and payload, the
stamp the hour it was made in. A button whose signature does not match, or
older than ``max_age_seconds``, decodes to ``None`` and is answered harmlessly.
"""

from __future__ import annotations

from core.platform.clock import Clock, epoch
from core.platform.codes import Keyring

MAX_BYTES = 64
"""Telegram's limit on ``callback_data``."""
SIGNATURE_CHARS = 16
PURPOSE = "tg-callback"
HOUR = 3600
DEFAULT_MAX_AGE = 7 * 24 * HOUR


class CallbackTooLong(ValueError):
    def __init__(self, payload: str) -> None:
        super().__init__(f"callback payload too long for {MAX_BYTES} bytes: {payload!r}")
        self.payload = payload


class CallbackCodec:
    def __init__(self, keyring: Keyring, clock: Clock, max_age_seconds: int = DEFAULT_MAX_AGE):
        self._keyring = keyring
        self._clock = clock
        self._max_age = max_age_seconds

    def _sign(self, body: str) -> str:
        return self._keyring.mac(PURPOSE, body)[:SIGNATURE_CHARS]

    def encode(self, payload: str) -> str:
        body = f"{epoch(self._clock.now()) // HOUR:x}.{payload}"
        data = f"{self._sign(body)}.{body}"
        if len(data.encode()) > MAX_BYTES:
            raise CallbackTooLong(payload)
        return data

    def fits(self, payload: str) -> bool:
        try:
            self.encode(payload)
        except CallbackTooLong:
            return False
        return True

    def decode(self, data: str) -> str | None:
        """The payload of a button we made recently; None for anything else."""
        signature, _, body = data.partition(".")
        if not body or not self._keyring.mac_matches(
            signature, PURPOSE, body, chars=SIGNATURE_CHARS
        ):
            return None
        stamp, _, payload = body.partition(".")
        try:
            made = int(stamp, 16) * HOUR
        except ValueError:
            return None
        if epoch(self._clock.now()) - made > self._max_age:
            return None
        return payload
