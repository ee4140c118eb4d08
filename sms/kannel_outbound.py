"""The Kannel transport: smsbox's ``/cgi-bin/sendsms``.

* Text that GSM-7 cannot carry goes with ``coding=2&charset=UTF-8``: smsbox then
  converts our UTF-8 to UCS-2. Without both, Chinese reaches the handset as ``???``.
* Long text is split here with ``core.messaging.segments`` (153 GSM-7 / 67 UCS-2 units per
  part) and each part carries a concatenation UDH (reference, total, sequence),
  so the handset shows one message and we know how many parts to expect reports for.
* ``dlr-mask=31`` asks for every report (delivered, undelivered, queued, accepted
  by the SMSC, rejected by the SMSC); ``dlr-url`` points at ``/sms/kannel/dlr``
  with our outbox id, part and part count, and the shared secret.

smsbox answers 202 ("0: Accepted for delivery" / "3: Queued for later delivery");
4xx means it refused the message, 5xx or no connection that nothing was sent.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from core.messaging import segments
from core.messaging.transport import (
    Accepted,
    OutboundMessage,
    RejectedSendError,
    RetryableSendError,
    UnknownOutcome,
)

DLR_PATH = "/sms/kannel/dlr"
DLR_MASK_ALL = 31
UCS2_CODING = "2"
TIMEOUT_SECONDS = 15.0
ACCEPTED = (200, 202)
SERVER_ERROR = 500
UDH_CONCAT = bytes((0x05, 0x00, 0x03))
MAX_PARTS = 255


def concat_udh(reference: int, total: int, sequence: int) -> bytes:
    """The 8-bit-reference concatenation header (3GPP TS 23.040 IEI 0x00)."""
    return UDH_CONCAT + bytes((reference & 0xFF, total, sequence))


class KannelTransport:
    name = "kannel"

    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: str,
        callback_url: str,
        secret: str,
        sender: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._sendsms = url.rstrip("/") + "/cgi-bin/sendsms"
        self._username = username
        self._password = password
        self._callback = callback_url.rstrip("/") + DLR_PATH
        self._secret = secret
        self._sender = sender
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _dlr_url(self, message_id: int, part: int, parts: int) -> str:
        # %d (report type) and %A (SMSC answer) are filled in by Kannel.
        query = urlencode(
            {"secret": self._secret, "id": message_id, "part": part, "parts": parts},
            quote_via=quote,
        )
        return f"{self._callback}?{query}&type=%d&answer=%A"

    def requests(self, message: OutboundMessage) -> list[str]:
        """The sendsms query strings for ``message``, one per part."""
        parts = segments.split(message.text) or [""]
        if len(parts) > MAX_PARTS:
            raise RejectedSendError(f"text needs {len(parts)} parts; at most {MAX_PARTS}")
        ucs2 = segments.encoding(message.text) == "UCS-2"
        queries = []
        for index, text in enumerate(parts):
            params: dict[str, str | bytes] = {
                "username": self._username,
                "password": self._password,
                "to": message.recipient,
                "text": text,
                "dlr-mask": str(DLR_MASK_ALL),
                "dlr-url": self._dlr_url(message.id, index, len(parts)),
            }
            if self._sender:
                params["from"] = self._sender
            if ucs2:
                params["coding"] = UCS2_CODING
                params["charset"] = "UTF-8"
            if len(parts) > 1:
                params["udh"] = concat_udh(message.id, len(parts), index + 1)
            queries.append(urlencode(params, quote_via=quote))
        return queries

    async def send(self, message: OutboundMessage) -> Accepted:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        queries = self.requests(message)
        for index, query in enumerate(queries):
            url = URL(f"{self._sendsms}?{query}", encoded=True)
            try:
                async with self._session.get(url) as resp:
                    body = (await resp.text()).strip()
                    status = resp.status
            except aiohttp.ClientConnectorError as exc:
                if index == 0:
                    raise RetryableSendError(f"cannot connect to smsbox: {exc}") from None
                raise UnknownOutcome(f"part {index + 1} not sent: {exc}") from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise UnknownOutcome(f"{type(exc).__name__}: {exc}") from None
            if status in ACCEPTED:
                continue
            reason = f"smsbox HTTP {status}: {body[:120]}"
            if index > 0:  # earlier parts are on their way: do not send them twice
                raise UnknownOutcome(f"part {index + 1}: {reason}")
            if status >= SERVER_ERROR:
                raise RetryableSendError(reason, code=str(status))
            raise RejectedSendError(reason, code=str(status))
        return Accepted(provider_id=None, parts=len(queries))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
