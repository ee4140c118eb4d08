"""LY / 留言 / MSG: a message to the operator's staff (§2.2.13), answered the way it came;
WDLY / 我的留言 / MYMSG: the messages one has left, with the replies (§2.2.19)."""

from __future__ import annotations

from core.feedback import messages
from handlers.commands import LeaveMessage, MyMessages
from handlers.context import Context
from handlers.i18n import short_date
from handlers.paging import counted, listing, page_size, pages_of
from handlers.reply import Reply

MESSAGE_WIDTH = {"zh": 40, "en": 80}
"""A message and its latest reply share a line: fewer, fuller lines a page."""


def leave_message(ctx: Context, cmd: LeaveMessage) -> Reply:
    """Store the message; staff replies go to the chat (from a chat) or the number (by SMS)."""
    message_id = messages.leave_from(
        ctx.conn, subscriber=ctx.subscriber, channel=ctx.channel, text=cmd.text, now=ctx.now
    )
    return Reply(ctx.t("ly_saved", id=message_id))


def my_messages(ctx: Context, cmd: MyMessages) -> Reply:
    """The subscriber's messages, newest first, each with the staff's latest reply."""
    size = page_size(ctx, MESSAGE_WIDTH)
    found, total = counted(
        lambda offset, limit: messages.mine_page(ctx.conn, ctx.subscriber.id, offset, limit),
        cmd.page,
        size,
    )
    if total == 0:
        return Reply(ctx.t("my_empty"))
    pages = pages_of(total, size)
    tz = ctx.policy.timezone
    lines = []
    for m in found:
        answer = ctx.t("my_reply", text=m.replies[-1].text) if m.replies else ctx.t("my_waiting")
        line = ctx.t("my_line", id=m.id, date=short_date(m.created_at, tz), text=m.text)
        lines.append(line + answer)
    return listing(
        ctx,
        head=ctx.t("my_head", page=cmd.page, pages=pages),
        lines=lines,
        width=MESSAGE_WIDTH,
        page=cmd.page,
        pages=pages,
        more=f"WDLY {cmd.page + 1}",
    )
