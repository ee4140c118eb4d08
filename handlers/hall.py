"""The hall: one inbound text in, one reply out, as a single unit of work.

Every channel (Twilio, Kannel, the CLI, later the chat) hands its message here.
In one transaction the message is claimed by its channel id (a redelivery gets
the first reply and has no second effect), rate-limited per number, parsed and
answered; the reply is stored with the message. The command runs inside a
savepoint, so a failing command never takes the record of the message with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection

from core.merchants import merchants
from core.messaging import inbound, segments
from core.platform.clock import Clock, epoch
from core.platform.codes import Keyring
from core.platform.db import savepoint
from core.platform.errors import DomainError, InvalidPhoneNumber
from core.platform.phones import to_e164
from core.subscribers import conversation, subscribers
from core.subscribers.subscribers import Subscriber, default_lang
from handlers import grammar
from handlers.commands import PRIORITY, Command, More
from handlers.context import Context, HallPolicy
from handlers.errors import reply_for
from handlers.i18n import t
from handlers.registry import COMMAND_HANDLERS
from handlers.reply import Reply

log = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 60
STAFF_RATE_FACTOR = 10


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    external_id: str
    sender: str
    text: str
    recipient: str = ""


@dataclass(frozen=True)
class Outcome:
    reply: str
    duplicate: bool = False
    status: str = "answered"


class Hall:
    def __init__(self, policy: HallPolicy, clock: Clock, keyring: Keyring) -> None:
        self.policy = policy
        self.clock = clock
        self.keyring = keyring

    def receive(self, conn: Connection, msg: InboundMessage) -> Outcome:
        """Claim, throttle, answer and record ``msg``; safe to call again for a redelivery."""
        now = epoch(self.clock.now())
        try:
            msisdn: str | None = to_e164(msg.sender, self.policy.region)
        except InvalidPhoneNumber:
            msisdn = None
        claim = inbound.claim(
            conn,
            channel=msg.channel,
            external_id=msg.external_id,
            sender=msisdn or msg.sender,
            recipient=msg.recipient,
            text=msg.text,
            now=now,
        )
        if claim.inbound_id is None:
            return Outcome(claim.reply or "", duplicate=True)
        if msisdn is None:
            reply = t(self.policy.home_lang, "bad_sender")
            inbound.finish(conn, claim.inbound_id, "refused", reply)
            return Outcome(reply, status="refused")
        recent = inbound.count_since(conn, msisdn, now - RATE_WINDOW_SECONDS)
        limit = self.policy.rate_limit_per_minute
        if recent > limit and merchants.staff_actor(conn, msisdn).merchant_ids:
            # A till verifying vouchers all day texts more than any subscriber.
            limit *= STAFF_RATE_FACTOR
        if recent > limit:
            lang = self._lang_of(conn, msisdn)
            reply = t(lang, "throttled") if recent == limit + 1 else ""
            inbound.finish(conn, claim.inbound_id, "throttled", reply)
            return Outcome(reply, status="throttled")
        subscriber = subscribers.get_or_create(conn, msisdn, now, self.policy.home_lang)
        reply, status = self._answer(conn, subscriber, msg, now)
        inbound.finish(conn, claim.inbound_id, status, reply)
        return Outcome(reply, status=status)

    def _lang_of(self, conn: Connection, msisdn: str) -> str:
        found = subscribers.find(conn, msisdn)
        return found.lang if found else default_lang(msisdn, self.policy.home_lang)

    def _answer(
        self, conn: Connection, subscriber: Subscriber, msg: InboundMessage, now: int
    ) -> tuple[str, str]:
        text = inbound.storable(msg.text, inbound.MAX_TEXT)
        ctx = Context(
            conn,
            subscriber,
            now,
            self.policy,
            subscriber.lang,
            self.keyring,
            request_key=f"{msg.channel}:{msg.external_id}",
            channel=msg.channel,
        )
        try:
            with savepoint(conn, "command"):
                reply = self.respond(ctx, grammar.parse(text))
            status = "answered"
        except DomainError as exc:
            reply, status = Reply(reply_for(exc, ctx.lang)), "refused"
        except Exception:
            log.exception("command failed for subscriber %s: %r", subscriber.id, text[:80])
            reply, status = Reply(t(ctx.lang, "error")), "error"
        return segments.truncate(reply.text, self.policy.segment_budget), status

    def respond(self, ctx: Context, command: Command) -> Reply:
        """Run ``command`` for the subscriber in ``ctx``, honouring MORE and command priority."""
        if isinstance(command, PRIORITY):
            conversation.forget(ctx.conn, ctx.subscriber.id)
        elif isinstance(command, More):
            state = conversation.current(ctx.conn, ctx.subscriber.id, ctx.now)
            if state is None or state.kind != "more":
                return Reply(ctx.t("nothing_more"))
            command = grammar.parse(state.payload)
        reply = COMMAND_HANDLERS[type(command)](ctx, command)
        if reply.more is not None:
            conversation.remember(
                ctx.conn,
                ctx.subscriber.id,
                conversation.State("more", reply.more),
                ctx.now + self.policy.more_ttl_seconds,
            )
        elif not isinstance(command, PRIORITY):
            conversation.forget(ctx.conn, ctx.subscriber.id)
        return reply
