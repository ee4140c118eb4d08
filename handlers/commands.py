"""Commands as frozen values: the SMS text, the chat text and a chat button parse to these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Help:
    """BZ: list the commands."""


@dataclass(frozen=True)
class Balance:
    """JF: balance, held, next expiry."""


@dataclass(frozen=True)
class History:
    """MX [page]: the newest journal entries."""

    page: int = 1


@dataclass(frozen=True)
class OptOut:
    """TD: no more marketing messages."""


@dataclass(frozen=True)
class OptIn:
    """START: marketing messages again."""


@dataclass(frozen=True)
class SetLanguage:
    """EN / ZH: reply language."""

    lang: str


@dataclass(frozen=True)
class More:
    """MORE: the next page of the last paged answer."""


@dataclass(frozen=True)
class Unknown:
    """Anything we could not read."""

    text: str


@dataclass(frozen=True)
class BadArguments:
    """A known keyword with arguments we could not read; answered with its usage."""

    keyword: str


Command = Help | Balance | History | OptOut | OptIn | SetLanguage | More | Unknown | BadArguments

PRIORITY = (Help, OptOut, OptIn)
"""Commands that always win over a pending confirmation or conversation (DESIGN.md §6)."""
