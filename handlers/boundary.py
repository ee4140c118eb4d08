"""The inbound boundary: every command of every channel comes in here, once.

An SMS, a chat text, a pressed Telegram button or a staff member's QR photo is one
unit of work in the same five steps:

1. **claim** it by ``(channel, external id)`` (``core.messaging.inbound``): a
   redelivery gets the first answer again and has no second effect;
2. **admit** it: a gate that may answer at once without running the command
   (a sender we cannot read, too many messages a minute);
3. **run** the command inside a savepoint, so a failing command never takes the
   record of the message with it (on PostgreSQL the first attempt runs it without one,
   two round trips fewer: if it fails, the whole unit is rolled back and run again
   with the savepoint, ``core.platform.db.optimistic``);
4. **map** a ``DomainError`` to the channel's answer by the channel's one table,
   looked up along the error's MRO (``Replies.refused``); anything unexpected goes
   to ``on_unexpected``, the one hook, and gets the channel's polite apology;
5. **record** the outcome (``answered``, ``refused``, ``throttled``, ``error``) and
   what was said with the message.

What is recorded and logged of a text never holds a secret (issue 13 §1): a code or
password in it is masked (``handlers.redaction``), and so is one in the answer.

The channels differ only in what an answer is (an SMS reply, a chat screen, an
act on a pressed message) and how it is worded: that is their ``Replies``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection

from core.messaging import inbound
from core.platform import metrics
from core.platform.db import Redo, optimistic, savepoint
from core.platform.errors import DomainError
from handlers.errors import reply_for
from handlers.i18n import t
from handlers.redaction import redact
from handlers.reply import Reply

log = logging.getLogger(__name__)

A = TypeVar("A")
A_co = TypeVar("A_co", covariant=True)


@dataclass(frozen=True)
class Arrival:
    """One inbound message or press as it is recorded."""

    channel: str
    external_id: str
    """The channel's own id of the delivery (Twilio ``MessageSid``, Telegram ``update_id``…)."""
    sender: str
    """E.164 number, or ``tg:<chat id>`` for a chat not bound to a number."""
    text: str
    """What is kept of it (a button's payload, ``[photo]``)."""
    recipient: str = ""


class Replies(Protocol[A]):
    """How one channel words the answers the boundary makes itself."""

    def refused(self, error: DomainError, lang: str) -> A:
        """The answer to a command refused by the domain (the channel's error table)."""

    def failed(self, lang: str) -> A:
        """The apology for a command that failed unexpectedly."""

    def said(self, answer: A) -> str:
        """The text of ``answer`` to record with the message (its secrets masked)."""

    def again(self, first: str, lang: str) -> A:
        """The answer to a redelivery: ``first`` is what was said the first time."""


@dataclass(frozen=True)
class Early(Generic[A_co]):
    """An answer the gate gives without running the command, with the status to record."""

    answer: A_co
    status: str


@dataclass(frozen=True)
class Received(Generic[A_co]):
    answer: A_co
    status: str
    """``answered``, ``refused``, ``throttled``, ``error`` or ``duplicate``."""

    @property
    def duplicate(self) -> bool:
        return self.status == "duplicate"


def on_unexpected(arrival: Arrival, error: BaseException) -> None:
    """The one hook for a command that failed unexpectedly: logged with its traceback and
    counted; the sender gets the channel's apology and the message is recorded ``error``."""
    metrics.COMMAND_ERRORS.labels(channel=arrival.channel).inc()
    log.error(
        "command failed: %s %s from %s: %r",
        arrival.channel,
        arrival.external_id,
        arrival.sender,
        redact(arrival.text)[:80],
        exc_info=error,
    )


def receive(
    conn: Connection,
    arrival: Arrival,
    *,
    now: int,
    lang: Callable[[], str],
    replies: Replies[A],
    command: Callable[[], A],
    admit: Callable[[tuple[Any, ...]], Early[A] | None] | None = None,
    claimer: inbound.Claimer | None = None,
    peek: Mapping[str, Any] | None = None,
) -> Received[A]:
    """Claim, admit, run, map and record ``arrival`` in the caller's unit of work.

    ``claimer`` claims the message and reads its peek columns (bound by ``peek``) in the
    same round trip; ``admit`` gets what they read (an empty tuple without a claimer).
    ``lang`` is asked after the gate (which may create the subscriber) for the language
    of the answers the boundary words itself. Safe to call again for a redelivery.
    """
    claim = (claimer or inbound.PLAIN).claim(
        conn,
        channel=arrival.channel,
        external_id=arrival.external_id,
        sender=arrival.sender,
        recipient=arrival.recipient,
        text=redact(arrival.text),
        now=now,
        **(peek or {}),
    )
    if claim.inbound_id is None:
        return Received(replies.again(claim.reply or "", lang()), "duplicate")
    early = admit(claim.peeked) if admit is not None else None
    if early is not None:
        inbound.finish(conn, claim.inbound_id, early.status, replies.said(early.answer))
        return Received(early.answer, early.status)
    if optimistic(conn):
        try:
            answer = command()
        except Exception as exc:
            if not isinstance(exc, DomainError):  # the careful run may not meet it again
                log.warning(
                    "command failed on its first attempt, running it again with its "
                    "savepoint: %s %s: %s",
                    arrival.channel,
                    arrival.external_id,
                    type(exc).__name__,
                )
            raise Redo from exc  # run again from the claim, with the savepoint
        inbound.finish(conn, claim.inbound_id, "answered", replies.said(answer))
        return Received(answer, "answered")
    try:
        with savepoint(conn, "command"):
            answer = command()
        status = "answered"
    except DomainError as exc:
        answer, status = replies.refused(exc, lang()), "refused"
    except Exception as exc:
        on_unexpected(arrival, exc)
        answer, status = replies.failed(lang()), "error"
    inbound.finish(conn, claim.inbound_id, status, replies.said(answer))
    return Received(answer, status)


class Worded(Generic[A]):
    """``Replies`` of a channel whose answers carry a text, worded by the text channels' one
    table (``handlers.errors``): ``wrap(text, lang)`` makes the channel's answer of a text,
    ``text_of`` reads it back, ``again`` (default ``wrap``) answers a redelivery."""

    def __init__(
        self,
        wrap: Callable[[str, str], A],
        text_of: Callable[[A], str],
        again: Callable[[str, str], A] | None = None,
    ) -> None:
        self._wrap = wrap
        self._text_of = text_of
        self._again = again or wrap

    def refused(self, error: DomainError, lang: str) -> A:
        return self._wrap(reply_for(error, lang), lang)

    def failed(self, lang: str) -> A:
        return self._wrap(t(lang, "error"), lang)

    def said(self, answer: A) -> str:
        return self._text_of(answer)

    def again(self, first: str, lang: str) -> A:
        return self._again(first, lang)


TEXT_REPLIES: Worded[Reply] = Worded(lambda text, _lang: Reply(text), lambda reply: reply.recorded)
"""The text channels' (SMS and chat text) answers."""
