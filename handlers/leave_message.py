"""LY / 留言 / MSG: a message to the operator's staff (§2.2.13), answered the way it came."""

from __future__ import annotations

from core.feedback import messages
from handlers.commands import LeaveMessage
from handlers.context import Context
from handlers.reply import Reply


def leave_message(ctx: Context, cmd: LeaveMessage) -> Reply:
    """Store the message; staff replies go to the chat (from a chat) or the number (by SMS)."""
    message_id = messages.leave_from(
        ctx.conn, subscriber=ctx.subscriber, channel=ctx.channel, text=cmd.text, now=ctx.now
    )
    return Reply(ctx.t("ly_saved", id=message_id))
