"""Parse an SMS or chat text into a command (DESIGN.md §6).

Full-width characters are folded (NFKC), case is ignored, arguments are separated
by spaces or ``#``, and a keyword may run into its first argument (``DH1024``,
``兑换1024``). Twilio's carrier opt-out and opt-in words are keywords here too,
so our record agrees with what the carrier did; a bare ``CANCEL`` is therefore
an opt-out, while ``CANCEL <order>`` will cancel an order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from handlers.commands import (
    BadArguments,
    Balance,
    Command,
    Help,
    History,
    More,
    OptIn,
    OptOut,
    SetLanguage,
    Unknown,
)

MAX_PAGE = 10_000
_SEPARATORS = re.compile(r"[\s#]+")
_CJK = re.compile(r"[\u3400-\u9fff]")

Parser = Callable[[list[str]], Command]


def _is_small_number(word: str) -> bool:
    return word.isascii() and word.isdigit() and len(word) <= 9


def _no_args(command: Command, keyword: str) -> Parser:
    def parse(args: list[str]) -> Command:
        return command if not args else BadArguments(keyword)

    return parse


def _page(keyword: str, make: Callable[[int], Command]) -> Parser:
    def parse(args: list[str]) -> Command:
        if not args:
            return make(1)
        if len(args) == 1 and _is_small_number(args[0]) and 1 <= int(args[0]) <= MAX_PAGE:
            return make(int(args[0]))
        return BadArguments(keyword)

    return parse


def _bare_or(bare: Command, keyword: str) -> Parser:
    """A word that is a command on its own (Twilio's STOP words) but takes no arguments."""

    def parse(args: list[str]) -> Command:
        return bare if not args else Unknown(" ".join([keyword, *args]))

    return parse


_HELP = _no_args(Help(), "BZ")
_OPT_OUT = _no_args(OptOut(), "TD")
_OPT_IN = _no_args(OptIn(), "START")

KEYWORDS: dict[str, Parser] = {
    "BZ": _HELP,
    "HELP": _HELP,
    "帮助": _HELP,
    "?": _HELP,
    "INFO": _bare_or(Help(), "INFO"),
    "JF": _no_args(Balance(), "JF"),
    "CXJF": _no_args(Balance(), "JF"),
    "BAL": _no_args(Balance(), "JF"),
    "积分": _no_args(Balance(), "JF"),
    "MX": _page("MX", History),
    "明细": _page("MX", History),
    "HIST": _page("MX", History),
    "TD": _OPT_OUT,
    "STOP": _OPT_OUT,
    "退订": _OPT_OUT,
    "UNSUBSCRIBE": _OPT_OUT,
    "STOPALL": _OPT_OUT,
    "END": _OPT_OUT,
    "QUIT": _OPT_OUT,
    "CANCEL": _bare_or(OptOut(), "CANCEL"),
    "START": _OPT_IN,
    "UNSTOP": _OPT_IN,
    "订阅": _OPT_IN,
    "EN": _no_args(SetLanguage("en"), "EN"),
    "ENGLISH": _no_args(SetLanguage("en"), "EN"),
    "ZH": _no_args(SetLanguage("zh"), "ZH"),
    "中文": _no_args(SetLanguage("zh"), "ZH"),
    "MORE": _no_args(More(), "MORE"),
    "更多": _no_args(More(), "MORE"),
}

_BY_LENGTH = sorted(KEYWORDS, key=len, reverse=True)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


def tokens(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(normalize(text)) if t]


def _split_glued(word: str) -> list[str] | None:
    """``DH1024`` → ``DH 1024``; ``积分`` keywords may run into any argument."""
    for keyword in _BY_LENGTH:
        if word.startswith(keyword) and len(word) > len(keyword):
            rest = word[len(keyword) :]
            if _CJK.match(keyword) or rest[0].isdigit():
                return [keyword, rest]
    return None


def parse(text: str) -> Command:
    """Never raises: anything unreadable is ``Unknown``."""
    words = tokens(text)
    if not words:
        return Unknown("")
    head, args = words[0], words[1:]
    parser = KEYWORDS.get(head)
    if parser is None:
        glued = _split_glued(head)
        if glued is None:
            return Unknown(text.strip())
        head, args = glued[0], [glued[1], *args]
        parser = KEYWORDS[head]
    return parser(args)
