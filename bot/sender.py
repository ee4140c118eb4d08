"""The Telegram side of the outbox (DESIGN.md §10): a ``Transport`` for the drain.

Rows with channel ``telegram`` carry a chat id as recipient. A row whose
``attachment`` is ``qr:<token>`` is a voucher: its QR code is drawn now
(``core.vouchers.qr``) and sent as a photo with the text as caption; anything else is a
text message. The drain paces the whole channel (about 30 messages a second, shared by
every replica on PostgreSQL); this transport adds Telegram's other limit, one message a
second per chat: the drain enters ``turn`` (the chat's lock, then its next second)
before it waits for the channel's send slot, and sends inside it.

How Bot API answers map onto the drain's rules (never a second copy on a guess):

* 429 ``RetryAfter`` → ``RetryableSendError`` with the server's ``retry_after``;
* 409 ``Conflict``, a 5xx answer, a connection refused → ``RetryableSendError``;
* 400 ``BadRequest``, 403 ``Forbidden`` (blocked by the user) → ``RejectedSendError``;
* a time-out or a connection lost mid-request → ``UnknownOutcome`` (may have been sent).
"""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot import limits
from core.messaging.ratelimit import Timer
from core.messaging.transport import (
    Accepted,
    OutboundMessage,
    RejectedSendError,
    RetryableSendError,
    UnknownOutcome,
)
from core.vouchers import qr

PER_CHAT_SECONDS = 1.0
"""Telegram: no more than one message a second to the same chat."""
GLOBAL_RATE = 30.0
"""Telegram: about 30 messages a second overall (the drain's rate for this channel)."""
QR_PREFIX = "qr:"
_CHAT_ID = re.compile(r"-?[0-9]{1,20}")
_NOT_SENT = ("ConnectError", "ConnectTimeout", "PoolTimeout")
"""httpx errors raised before the request left: safe to try again."""


def _seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version gives (int or timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramTransport:
    name = "telegram"

    def __init__(
        self, bot: Bot, timer: Timer, *, per_chat_seconds: float = PER_CHAT_SECONDS
    ) -> None:
        self._bot = bot
        self._timer = timer
        self._per_chat = per_chat_seconds
        self._next_slot: dict[int, float] = {}
        self._started: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(self, message: OutboundMessage) -> AsyncIterator[None]:
        """Hold the chat's turn: its messages go out in order, their sends a second apart."""
        if not _CHAT_ID.fullmatch(message.recipient):
            yield  # ``send`` refuses it
            return
        chat_id = int(message.recipient)
        async with self._locks.setdefault(chat_id, asyncio.Lock()):
            now = self._timer.monotonic()
            slot = self._next_slot.get(chat_id, now)
            if slot > now:
                await self._timer.sleep(slot - now)
            try:
                yield
            finally:  # a second from when the send started (it waited for the rate too)
                started = self._started.pop(chat_id, None)
                if started is not None:
                    self._next_slot[chat_id] = started + self._per_chat

    async def send(self, message: OutboundMessage) -> Accepted:
        """Send now; the drain calls it inside ``turn`` for the chat's one message a second."""
        if not _CHAT_ID.fullmatch(message.recipient):  # e.g. a phone number queued here by mistake
            raise RejectedSendError(f"not a chat id: {message.recipient!r}")
        chat_id = int(message.recipient)
        self._started[chat_id] = self._timer.monotonic()
        return await self._send(chat_id, message)

    async def _send(self, chat_id: int, message: OutboundMessage) -> Accepted:
        attachment = message.attachment or ""
        try:
            if attachment.startswith(QR_PREFIX):
                png = qr.png(attachment[len(QR_PREFIX) :])
                caption = limits.caption(message.text)
                sent = await self._bot.send_photo(chat_id, photo=png, caption=caption)
            else:
                sent = await self._bot.send_message(chat_id, limits.text(message.text))
        except RetryAfter as exc:
            raise RetryableSendError(
                "429 too many requests", code="429", retry_after=_seconds(exc)
            ) from exc
        except Conflict as exc:
            raise RetryableSendError(str(exc), code="409") from exc
        except (BadRequest, Forbidden) as exc:
            raise RejectedSendError(str(exc), code=type(exc).__name__) from exc
        except TimedOut as exc:
            raise UnknownOutcome(str(exc)) from exc
        except NetworkError as exc:
            text = str(exc)
            if text.startswith("httpx.") and not any(n in text for n in _NOT_SENT):
                raise UnknownOutcome(text) from exc
            raise RetryableSendError(text, code="5xx") from exc
        return Accepted(f"tg:{chat_id}:{sent.message_id}")

    async def close(self) -> None:
        self._locks.clear()
        self._started.clear()
