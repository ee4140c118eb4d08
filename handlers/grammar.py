"""Parse an SMS or chat text into a command (DESIGN.md §6).

Full-width characters are folded (NFKC), keywords ignore case, arguments are
separated by spaces or ``#``, and a keyword may run into its first argument
(``DH1024``, ``兑换1024``). Free text (an address, a search) keeps its case.
Twilio's carrier opt-out and opt-in words are keywords here too, so our record
agrees with what the carrier did; a bare ``CANCEL`` is therefore an opt-out,
while ``CANCEL <order>`` cancels an order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from handlers import keywords
from handlers.commands import (
    Activities,
    Announcements,
    BadArguments,
    Balance,
    CancelOrder,
    Categories,
    Command,
    Confirm,
    Detail,
    Help,
    History,
    LeaveMessage,
    ListItems,
    More,
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
from handlers.pay_words import WORD_METHOD

MAX_PAGE = 10_000
CONFIRM_CODE = re.compile(r"[0-9]{6}")
ORDER_NO = re.compile(r"[0-9]{6,20}")
ITEM_CODE = re.compile(r"[0-9A-Z][0-9A-Z-]{0,15}")
VOUCHER_PASSWORD = re.compile(r"[0-9]{8}")
BARE_VERIFY = re.compile(r"([0-9]{12})[\s#]+([0-9]{8})")
_SEPARATORS = re.compile(r"[\s#]+")
_CJK = re.compile(r"[\u3400-\u9fff]")

Parser = Callable[[list[str], str], Command]
"""A keyword's parser gets its arguments (case kept) and the raw text after the keyword."""


def _is_small_number(word: str) -> bool:
    return word.isascii() and word.isdigit() and len(word) <= 9


def _page_of(word: str) -> int | None:
    if _is_small_number(word) and 1 <= int(word) <= MAX_PAGE:
        return int(word)
    return None


def _no_args(command: Command, keyword: str) -> Parser:
    def parse(args: list[str], _rest: str) -> Command:
        return command if not args else BadArguments(keyword)

    return parse


def _history(args: list[str], _rest: str) -> Command:
    if not args:
        return History(1)
    page = _page_of(args[0]) if len(args) == 1 else None
    return History(page) if page else BadArguments("MX")


def _bare_or(bare: Command, keyword: str, then: Parser | None = None) -> Parser:
    """A word that is a command on its own (Twilio's STOP words) and maybe another with args."""

    def parse(args: list[str], rest: str) -> Command:
        if not args:
            return bare
        return then(args, rest) if then else Unknown(" ".join([keyword, *args]))

    return parse


ACTIVITY_WHEN = {
    "Y": "upcoming",
    "预告": "upcoming",
    "G": "past",
    "往期": "past",
    "A": "all",
    "ALL": "all",
    "全部": "all",
}


def _activities(args: list[str], _rest: str) -> Command:
    when, page = "ongoing", 1
    words = [a.upper() for a in args]
    if words and words[0] in ACTIVITY_WHEN:
        when = ACTIVITY_WHEN[words.pop(0)]
    if len(words) == 1 and (p := _page_of(words[0])):
        page = p
    elif words:
        return BadArguments("HD")
    return Activities(when, page)


def _paged(make: Callable[[int], Command], keyword: str) -> Parser:
    """A command that takes nothing but an optional page number."""

    def parse(args: list[str], _rest: str) -> Command:
        if not args:
            return make(1)
        page = _page_of(args[0]) if len(args) == 1 else None
        return make(page) if page else BadArguments(keyword)

    return parse


def _announcements(args: list[str], _rest: str) -> Command:
    """``GG``: the list; ``GG 12``: announcement 12; ``GG P2``: the list's second page."""
    if not args:
        return Announcements()
    word = args[0].upper()
    if len(args) == 1 and word.startswith("P") and (page := _page_of(word[1:])):
        return Announcements(page=page)
    if len(args) == 1 and word.isdigit() and len(word) <= 18:
        return Announcements(int(word))
    return BadArguments("GG")


GOODS_SORTS = {
    "XL": "sales",
    "销量": "sales",
    "RQ": "views",
    "人气": "views",
    "XP": "newest",
    "新品": "newest",
    "JF": "points",
    "积分": "points",
    "JFD": "points_desc",
}
ALL_CATEGORIES = ("ALL", "*", "全部")


def _goods(args: list[str], _rest: str) -> Command:
    category: str | None = None
    brand: str | None = None
    sort, page = "sales", 1
    chose_category = False
    for word in (a.upper() for a in args):
        if word in GOODS_SORTS:
            sort = GOODS_SORTS[word]
        elif word.startswith("PP") and len(word) > 2:
            brand = word[2:]
        elif not chose_category:
            category = None if word in ALL_CATEGORIES else word
            chose_category = True
        elif p := _page_of(word):
            page = p
        else:
            return BadArguments("SP")
    return ListItems(category, brand, sort, page)


def _search(args: list[str], _rest: str) -> Command:
    if not args:
        return BadArguments("SS")
    page = 1
    if len(args) > 1 and (p := _page_of(args[-1])):
        page, args = p, args[:-1]
    return Search(" ".join(args).upper()[:40], page)


def _code(make: Callable[[str], Command], keyword: str) -> Parser:
    def parse(args: list[str], _rest: str) -> Command:
        if len(args) == 1 and ITEM_CODE.fullmatch(args[0].upper()):
            return make(args[0].upper())
        return BadArguments(keyword)

    return parse


def _redeem(args: list[str], _rest: str) -> Command:
    method = "points"
    if len(args) >= 2 and args[-1].upper() in WORD_METHOD:  # DH 5001 [2] XJ (§3.5.6)
        method = WORD_METHOD[args[-1].upper()]
        args = args[:-1]
    if not 1 <= len(args) <= 2 or not ITEM_CODE.fullmatch(args[0].upper()):
        return BadArguments("DH")
    if len(args) == 1:
        return Redeem(args[0].upper(), 1, method)
    if not _is_small_number(args[1]):
        return BadArguments("DH")
    return Redeem(args[0].upper(), int(args[1]), method)


def _confirm(args: list[str], _rest: str) -> Command:
    if len(args) == 1 and CONFIRM_CODE.fullmatch(args[0]):
        return Confirm(args[0])
    return BadArguments("QR")


def _order(make: Callable[[str], Command], keyword: str) -> Parser:
    def parse(args: list[str], _rest: str) -> Command:
        if len(args) == 1 and ORDER_NO.fullmatch(args[0]):
            return make(args[0])
        return BadArguments(keyword)

    return parse


def _orders(args: list[str], _rest: str) -> Command:
    if not args:
        return Orders()
    if len(args) == 1 and ORDER_NO.fullmatch(args[0]):
        return Orders(no=args[0])
    if len(args) == 1 and (p := _page_of(args[0])):
        return Orders(page=p)
    return BadArguments("DD")


def _address(_args: list[str], rest: str) -> Command:
    text = " ".join(rest.split())
    if not 5 <= len(text) <= 200:
        return BadArguments("DZ")
    return SetAddress(text)


def _message(_args: list[str], rest: str) -> Command:
    text = " ".join(rest.split())
    if not text:
        return BadArguments("LY")
    return LeaveMessage(text[:500])


def _verify(args: list[str], _rest: str) -> Command:
    if len(args) == 2 and ORDER_NO.fullmatch(args[0]) and VOUCHER_PASSWORD.fullmatch(args[1]):
        return Verify(args[0], args[1])
    return BadArguments("YZ")


def _passwords(args: list[str], _rest: str) -> Command:
    if not args:
        return SetPasswords()
    if len(args) == 3 and all(a.isascii() and a.isdigit() and len(a) == 6 for a in args):
        return SetPasswords(*args)
    return BadArguments("MM")


STAFF_REMOVE = ("DEL", "删除", "删")
_PHONE = re.compile(r"\+?[0-9]{5,16}")


def _staff(args: list[str], _rest: str) -> Command:
    if not args:
        return Staff()
    remove = args[0].upper() in STAFF_REMOVE
    phones = args[1:] if remove else args
    if len(phones) == 1 and _PHONE.fullmatch(phones[0]):
        return Staff("remove" if remove else "add", phones[0])
    return BadArguments("YG")


_HELP = _paged(Help, "BZ")
_OPT_OUT = _no_args(OptOut(), "TD")
_OPT_IN = _no_args(OptIn(), "START")
_BALANCE = _no_args(Balance(), "JF")
_MORE = _no_args(More(), "MORE")
_DETAIL = _code(Detail, "XQ")
_CANCEL = _order(CancelOrder, "QX")
_RESEND = _order(Resend, "CF")

KEYWORDS: dict[str, Parser] = {
    **dict.fromkeys(keywords.HELP, _HELP),
    **dict.fromkeys(keywords.OPT_OUT, _OPT_OUT),
    **dict.fromkeys(keywords.OPT_IN, _OPT_IN),
    "INFO": _bare_or(Help(), "INFO", _DETAIL),
    "FL": _paged(Categories, "FL"),
    "分类": _paged(Categories, "FL"),
    "CAT": _paged(Categories, "FL"),
    "GG": _announcements,
    "公告": _announcements,
    "NEWS": _announcements,
    "WDLY": _paged(MyMessages, "WDLY"),
    "我的留言": _paged(MyMessages, "WDLY"),
    "MYMSG": _paged(MyMessages, "WDLY"),
    "JF": _BALANCE,
    "CXJF": _BALANCE,
    "BAL": _BALANCE,
    "积分": _BALANCE,
    "MX": _history,
    "明细": _history,
    "HIST": _history,
    "HD": _activities,
    "活动": _activities,
    "ACT": _activities,
    "SP": _goods,
    "商品": _goods,
    "LIST": _goods,
    "SS": _search,
    "搜索": _search,
    "FIND": _search,
    "XQ": _DETAIL,
    "详情": _DETAIL,
    "DH": _redeem,
    "兑换": _redeem,
    "BUY": _redeem,
    "QR": _confirm,
    "确认": _confirm,
    "DD": _orders,
    "订单": _orders,
    "ORD": _orders,
    "QX": _CANCEL,
    "取消": _CANCEL,
    "CF": _RESEND,
    "重发": _RESEND,
    "RESEND": _RESEND,
    "DZ": _address,
    "地址": _address,
    "ADDR": _address,
    "CANCEL": _bare_or(OptOut(), "CANCEL", _CANCEL),
    "EN": _no_args(SetLanguage("en"), "EN"),
    "ENGLISH": _no_args(SetLanguage("en"), "EN"),
    "ZH": _no_args(SetLanguage("zh"), "ZH"),
    "中文": _no_args(SetLanguage("zh"), "ZH"),
    "MORE": _MORE,
    "更多": _MORE,
    "YZ": _verify,
    "验证": _verify,
    "VERIFY": _verify,
    "MM": _passwords,
    "密码": _passwords,
    "PWD": _passwords,
    "YG": _staff,
    "员工": _staff,
    "STAFF": _staff,
    "LY": _message,
    "留言": _message,
    "MSG": _message,
}

_BY_LENGTH = sorted(
    (k for k in KEYWORDS if not k.isdigit() and not (len(k) == 1 and k.isalpha())),
    key=len,
    reverse=True,
)
"""Keywords that may run into their first argument (``DH1024``); not ``T`` or ``0000``."""


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


def tokens(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(normalize(text)) if t]


def _split_glued(word: str) -> tuple[str, str] | None:
    """``DH1024`` → ``DH``, ``1024``; a Chinese keyword may run into any argument."""
    upper = word.upper()
    source = word if len(upper) == len(word) else upper
    for keyword in _BY_LENGTH:
        if upper.startswith(keyword) and len(upper) > len(keyword):
            rest = source[len(keyword) :]
            if _CJK.match(keyword) or rest[0].isdigit():
                return keyword, rest
    return None


def parse(text: str) -> Command:
    """Never raises: anything unreadable is ``Unknown``."""
    folded = unicodedata.normalize("NFKC", text).strip().strip("#").strip()
    if not folded:
        return Unknown("")
    if CONFIRM_CODE.fullmatch(folded):
        return Confirm(folded)
    if bare := BARE_VERIFY.fullmatch(folded):
        return Verify(bare.group(1), bare.group(2))
    parts = _SEPARATORS.split(folded, maxsplit=1)
    head, rest = parts[0], parts[1] if len(parts) > 1 else ""
    parser = KEYWORDS.get(head.upper())
    if parser is None:
        glued = _split_glued(head)
        if glued is None:
            return Unknown(text.strip())
        head, first = glued
        rest = f"{first} {rest}".strip()
        parser = KEYWORDS[head]
    args = [a for a in _SEPARATORS.split(rest) if a]
    return parser(args, rest)
