"""Which handler answers which command (cosmicpython's COMMAND_HANDLERS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers import leave_message, mall, passwords, points, profile, redeem, staff, verify
from handlers.commands import (
    Activities,
    Announcements,
    BadArguments,
    Balance,
    CancelOrder,
    Categories,
    Confirm,
    Detail,
    Help,
    History,
    LeaveMessage,
    ListItems,
    MyMessages,
    OptIn,
    OptOut,
    Orders,
    Redeem,
    Resend,
    Search,
    SetAddress,
    SetLanguage,
    SetPasswords,
    Staff,
    Unknown,
    Verify,
)
from handlers.context import Context
from handlers.reply import Reply

Handler = Callable[[Context, Any], Reply]

COMMAND_HANDLERS: dict[type, Handler] = {
    Help: profile.help_,
    Balance: points.balance,
    History: points.history,
    OptOut: profile.opt_out,
    OptIn: profile.opt_in,
    SetLanguage: profile.set_language,
    Unknown: profile.unknown,
    BadArguments: profile.bad_arguments,
    Activities: mall.activities,
    ListItems: mall.list_items,
    Search: mall.search,
    Detail: mall.detail,
    Redeem: redeem.redeem,
    Confirm: redeem.confirm,
    Orders: redeem.my_orders,
    CancelOrder: redeem.cancel,
    Resend: redeem.resend,
    SetAddress: redeem.set_address,
    Verify: verify.verify,
    SetPasswords: passwords.set_passwords,
    Staff: staff.staff,
    LeaveMessage: leave_message.leave_message,
    MyMessages: leave_message.my_messages,
    Categories: mall.categories,
    Announcements: mall.announcements,
}
