"""The Twilio transport: Programmable Messaging REST through the twilio SDK's async client.

Each message is created with ``status_callback`` pointing at our
``/sms/twilio/status`` route, carrying our outbox id (``?o=ID``), so a delivery
report finds its message even if the answer to the create call was lost.
Twilio splits long bodies itself on the same segment boundaries as
``core.messaging.segments`` (153 GSM-7 / 67 UCS-2 characters per part).

``api_base`` (``POINTSHALL_TWILIO_API_BASE``) points the SDK somewhere other than
``https://api.twilio.com``: the SDK builds every URL from the API domain's
``base_url``, so the tests set it to a fake speaking the same Messages JSON.
"""

from __future__ import annotations

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from core.messaging import segments
from core.messaging.transport import (
    Accepted,
    OutboundMessage,
    RejectedSendError,
    RetryableSendError,
    UnknownOutcome,
)

STATUS_PATH = "/sms/twilio/status"
OPTED_OUT_CODE = 21610  # "Attempt to send to unsubscribed recipient"
TOO_MANY_REQUESTS = 429
SERVER_ERROR = 500
TIMEOUT_SECONDS = 15.0


class TwilioTransport:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        public_url: str,
        api_base: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._http = AsyncTwilioHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        if api_base:
            self._client.api.base_url = api_base.rstrip("/")
        self._sender = sender
        self._callback = public_url.rstrip("/") + STATUS_PATH

    async def send(self, message: OutboundMessage) -> Accepted:
        try:
            created = await self._client.messages.create_async(
                to=message.recipient,
                from_=self._sender,
                body=message.text,
                status_callback=f"{self._callback}?o={message.id}",
            )
        except TwilioRestException as exc:
            code = str(exc.code)
            if exc.code == OPTED_OUT_CODE:
                raise RejectedSendError(
                    f"Twilio {OPTED_OUT_CODE}: recipient unsubscribed", code=code, opted_out=True
                ) from None
            if exc.status == TOO_MANY_REQUESTS or exc.status >= SERVER_ERROR:
                raise RetryableSendError(f"Twilio HTTP {exc.status} ({code})", code=code) from None
            raise RejectedSendError(f"Twilio {code}: {exc.msg}"[:200], code=code) from None
        except aiohttp.ClientConnectorError as exc:  # never reached Twilio
            raise RetryableSendError(f"cannot connect: {exc}") from None
        except (TimeoutError, aiohttp.ClientError, TwilioException) as exc:
            raise UnknownOutcome(f"{type(exc).__name__}: {exc}") from None
        return Accepted(provider_id=str(created.sid), parts=segments.count(message.text))

    async def close(self) -> None:
        await self._http.close()
