"""Domain errors → reply text for the text channels (SMS and chat): one table.

Looked up along the exception's MRO, so a subclass without its own row gets its
parent's reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import DomainError, InsufficientPoints, NoAccount
from handlers.i18n import t

ReplyArgs = Callable[[Any], dict[str, Any]]

ERROR_REPLIES: dict[type[DomainError], tuple[str, ReplyArgs]] = {
    NoAccount: ("no_account", lambda _e: {}),
    InsufficientPoints: (
        "insufficient",
        lambda e: {"needed": e.needed, "available": e.available},
    ),
    DomainError: ("error", lambda _e: {}),
}


def reply_for(exc: DomainError, lang: str) -> str:
    for cls in type(exc).__mro__:
        row = ERROR_REPLIES.get(cls)
        if row is not None:
            key, args = row
            return t(lang, key, **args(exc))
    return t(lang, "error")
