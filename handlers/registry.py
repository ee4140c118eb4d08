"""Which handler answers which command (cosmicpython's COMMAND_HANDLERS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers import points, profile
from handlers.commands import (
    BadArguments,
    Balance,
    Help,
    History,
    OptIn,
    OptOut,
    SetLanguage,
    Unknown,
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
}
