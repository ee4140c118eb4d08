"""The hall: one inbound text in, one reply out, as a single unit of work.

Every text channel (Twilio, Kannel, the CLI, a chat bound to a number) hands its
message here. It passes the inbound boundary (``handlers.boundary``) like every
command: claimed by its channel id (a redelivery gets the first reply and has no
second effect), rate-limited per number, parsed and answered in a savepoint, the
reply stored with the message; replies are cut to the SMS segment budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Connection, bindparam

from core.merchants import merchants
from core.messaging import inbound, segments
from core.platform.clock import Clock, epoch
from core.platform.codes import Keyring
from core.platform.errors import InvalidPhoneNumber
from core.platform.phones import to_e164
from core.subscribers import conversation, subscribers
from core.subscribers.subscribers import Subscriber, default_lang
from handlers import boundary, grammar
from handlers.boundary import Arrival, Early, Worded
from handlers.commands import PRIORITY, Command, More
from handlers.context import Context, HallPolicy
from handlers.i18n import t
from handlers.registry import COMMAND_HANDLERS
from handlers.reply import Reply

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


def _text(reply: Reply) -> str:
    return reply.recorded


class Hall:
    def __init__(self, policy: HallPolicy, clock: Clock, keyring: Keyring) -> None:
        self.policy = policy
        self.clock = clock
        self.keyring = keyring
        self.replies: Worded[Reply] = Worded(lambda text, _lang: self.cut(text), _text)
        sender: BindParameter[str] = bindparam(inbound.PEEK_SENDER)
        self._claimer = inbound.Claimer(
            [
                inbound.recent_column(bindparam("since")),
                *subscribers.peek_columns(sender),
                conversation.exists_column(sender),
            ]
        )

    def receive(self, conn: Connection, msg: InboundMessage) -> Outcome:
        """Claim, throttle, answer and record ``msg``; safe to call again for a redelivery."""
        now = epoch(self.clock.now())
        try:
            msisdn: str | None = to_e164(msg.sender, self.policy.region)
        except InvalidPhoneNumber:
            msisdn = None
        asking: list[Subscriber] = []

        def admit(peeked: tuple[Any, ...]) -> Early[Reply] | None:
            if msisdn is None:
                return Early(Reply(t(self.policy.home_lang, "bad_sender")), "refused")
            before, *known, conversing = peeked
            recent = int(before) + 1  # this message too
            limit = self.policy.rate_limit_per_minute
            if recent > limit and merchants.staff_actor(conn, msisdn).merchant_ids:
                # A till verifying vouchers all day texts more than any subscriber.
                limit *= STAFF_RATE_FACTOR
            if recent > limit:
                lang = self._lang_of(conn, msisdn)
                return Early(
                    Reply(t(lang, "throttled") if recent == limit + 1 else ""), "throttled"
                )
            found = subscribers.from_peek(known)
            sub = subscribers.get_or_create(conn, msisdn, now, self.policy.home_lang, found=found)
            if not conversing:
                conversation.note_absent(conn, sub.id)
            asking.append(sub)
            return None

        def command() -> Reply:
            subscriber = asking[0]
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
            text = inbound.storable(msg.text, inbound.MAX_TEXT)
            reply = self.respond(ctx, grammar.parse(text))
            cut = segments.truncate(reply.text, self.policy.segment_budget)
            return Reply(cut, reply.more, reply.secrets)

        received = boundary.receive(
            conn,
            Arrival(msg.channel, msg.external_id, msisdn or msg.sender, msg.text, msg.recipient),
            now=now,
            lang=lambda: asking[0].lang if asking else self.policy.home_lang,
            replies=self.replies,
            command=command,
            admit=admit,
            # a sender that is no number is refused by the gate: nothing to peek
            claimer=self._claimer if msisdn is not None else None,
            peek={inbound.PEEK_SENDER: msisdn, "since": now - RATE_WINDOW_SECONDS}
            if msisdn is not None
            else None,
        )
        return Outcome(received.answer.text, received.duplicate, received.status)

    def cut(self, text: str) -> Reply:
        """``text`` as an SMS reply within the segment budget."""
        return Reply(segments.truncate(text, self.policy.segment_budget))

    def _lang_of(self, conn: Connection, msisdn: str) -> str:
        found = subscribers.find(conn, msisdn)
        return found.lang if found else default_lang(msisdn, self.policy.home_lang)

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
        else:  # the last page: MORE now says there is nothing more
            conversation.forget(ctx.conn, ctx.subscriber.id)
        return reply
