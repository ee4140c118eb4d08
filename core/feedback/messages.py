"""Messages to the operator (§2.2.13) and their replies (§2.2.19).

A subscriber leaves a message from the chat or by SMS (``LY text``); staff list
the open ones and reply. A reply is stored and, in the same unit of work, queued
in the outbox back to where the message came from: the Telegram chat it was
left in, or the number that texted it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select, update

from core.feedback.errors import BadMessage, UnknownMessage
from core.messaging import outbox
from core.platform import audit
from core.platform.schema import chat_binding, message, message_reply, subscriber
from core.subscribers.subscribers import Subscriber

MAX_TEXT = 500
CHANNELS = ("telegram", "sms")
OPEN, REPLIED = "open", "replied"

REPLY_TEXT = {
    "zh": "【积分商城】您的留言#{id}有回复:{text}",
    "en": "[Points mall] Reply to your message #{id}: {text}",
}


@dataclass(frozen=True)
class Reply:
    staff: str
    text: str
    created_at: int


@dataclass(frozen=True)
class MessageView:
    id: int
    subscriber_id: int
    msisdn: str
    channel: str
    reply_to: str
    text: str
    status: str
    created_at: int
    replies: list[Reply] = field(default_factory=list)


def leave(
    conn: Connection, *, subscriber_id: int, channel: str, reply_to: str, text: str, now: int
) -> int:
    """Store a message; replies will go to ``reply_to`` on ``channel``. Returns its id."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    text = " ".join(text.split())
    if not 1 <= len(text) <= MAX_TEXT:
        raise BadMessage(len(text), MAX_TEXT)
    return int(
        conn.execute(
            message.insert()
            .values(
                subscriber_id=subscriber_id,
                channel=channel,
                reply_to=reply_to,
                text=text,
                status=OPEN,
                created_at=now,
            )
            .returning(message.c.id)
        ).scalar_one()
    )


def leave_from(
    conn: Connection, *, subscriber: Subscriber, channel: str, text: str, now: int
) -> int:
    """A message sent as a command (``LY``): from a chat, replies go to the chat bound to the
    subscriber most recently; by SMS, to the number."""
    if channel == "telegram":
        chat_id = conn.execute(
            select(chat_binding.c.chat_id)
            .where(chat_binding.c.subscriber_id == subscriber.id)
            .order_by(chat_binding.c.bound_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        if chat_id is not None:
            return leave(
                conn,
                subscriber_id=subscriber.id,
                channel="telegram",
                reply_to=str(chat_id),
                text=text,
                now=now,
            )
    return leave(
        conn,
        subscriber_id=subscriber.id,
        channel="sms",
        reply_to=subscriber.msisdn,
        text=text,
        now=now,
    )


def _views(conn: Connection, where: object, limit: int, offset: int = 0) -> list[MessageView]:
    rows = conn.execute(
        select(
            message.c.id,
            message.c.subscriber_id,
            subscriber.c.msisdn,
            message.c.channel,
            message.c.reply_to,
            message.c.text,
            message.c.status,
            message.c.created_at,
        )
        .select_from(message.join(subscriber, subscriber.c.id == message.c.subscriber_id))
        .where(where)  # type: ignore[arg-type]
        .order_by(message.c.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    views = [MessageView(*r) for r in rows]
    if not views:
        return views
    replies = conn.execute(
        select(
            message_reply.c.message_id,
            message_reply.c.staff,
            message_reply.c.text,
            message_reply.c.created_at,
        )
        .where(message_reply.c.message_id.in_([v.id for v in views]))
        .order_by(message_reply.c.id)
    ).all()
    by_id = {v.id: v for v in views}
    for r in replies:
        by_id[int(r[0])].replies.append(Reply(r[1], r[2], int(r[3])))
    return views


def mine(conn: Connection, subscriber_id: int, limit: int) -> list[MessageView]:
    """The subscriber's newest messages, each with its replies."""
    return _views(conn, message.c.subscriber_id == subscriber_id, limit)


def mine_page(
    conn: Connection, subscriber_id: int, offset: int, limit: int
) -> tuple[list[MessageView], int]:
    """One page of the subscriber's messages, newest first, with replies, and the total."""
    total = conn.execute(
        select(func.count()).select_from(message).where(message.c.subscriber_id == subscriber_id)
    ).scalar_one()
    return _views(conn, message.c.subscriber_id == subscriber_id, limit, offset), int(total)


def staff_list(
    conn: Connection, status: str | None, limit: int, offset: int = 0
) -> list[MessageView]:
    """For staff: messages newest first, with their replies (only in ``status`` if given),
    ``limit`` of them from ``offset``."""
    where = message.c.status == status if status else message.c.id > 0
    return _views(conn, where, limit, offset)


def get(conn: Connection, message_id: int) -> MessageView:
    """One message with its replies (for staff)."""
    found = _views(conn, message.c.id == message_id, 1)
    if not found:
        raise UnknownMessage(message_id)
    return found[0]


def reply(conn: Connection, *, message_id: int, staff: str, text: str, now: int) -> int:
    """Store a staff reply and queue it to the subscriber; return the reply's id."""
    found = _views(conn, message.c.id == message_id, 1)
    if not found:
        raise UnknownMessage(message_id)
    msg = found[0]
    text = " ".join(text.split())
    if not 1 <= len(text) <= MAX_TEXT:
        raise BadMessage(len(text), MAX_TEXT)
    reply_id = int(
        conn.execute(
            message_reply.insert()
            .values(message_id=message_id, staff=staff, text=text, created_at=now)
            .returning(message_reply.c.id)
        ).scalar_one()
    )
    conn.execute(update(message).where(message.c.id == message_id).values(status=REPLIED))
    lang = conn.execute(
        select(subscriber.c.lang).where(subscriber.c.id == msg.subscriber_id)
    ).scalar_one()
    outbox.enqueue(
        conn,
        key=f"message-reply:{reply_id}",
        recipient=msg.reply_to,
        text=REPLY_TEXT.get(lang, REPLY_TEXT["zh"]).format(id=message_id, text=text),
        now=now,
        channel=msg.channel,
    )
    audit.record(
        conn,
        actor_kind="staff",
        actor=staff,
        action="message_reply",
        subject=f"message:{message_id}",
        result="ok",
        now=now,
    )
    return reply_id
