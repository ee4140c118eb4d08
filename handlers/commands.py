"""Commands as frozen values: the SMS text, the chat text and a chat button parse to these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Help:
    """BZ [page]: the commands, a page at a time."""

    page: int = 1


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


@dataclass(frozen=True)
class Activities:
    """HD [Y|G|A] [page]: promotions running now, upcoming, past or all (§2.2.14)."""

    when: str = "ongoing"
    page: int = 1


@dataclass(frozen=True)
class ListItems:
    """SP [category] [sort] [PPbrand] [page]: the goods list (§2.2.2, §2.2.7)."""

    category: str | None = None
    brand: str | None = None
    sort: str = "sales"
    page: int = 1


@dataclass(frozen=True)
class Search:
    """SS keyword [page]: goods by name or keyword (§2.2.6)."""

    keyword: str
    page: int = 1


@dataclass(frozen=True)
class Detail:
    """XQ code: one item in full (§2.2.9)."""

    code: str


@dataclass(frozen=True)
class Redeem:
    """DH code [qty] [method]: hold the points and ask for the confirm code (§2.2.12),
    or, for a method with money (§3.5.6), answer with a pay link."""

    code: str
    qty: int = 1
    method: str = "points"


@dataclass(frozen=True)
class Confirm:
    """<6 digits> or QR code: confirm the waiting redemption."""

    code: str


@dataclass(frozen=True)
class Orders:
    """DD [order | page]: my orders, or one with its delivery status (§2.2.15)."""

    no: str | None = None
    page: int = 1


@dataclass(frozen=True)
class CancelOrder:
    """QX order: cancel, or refund when paid and not yet used or shipped."""

    no: str


@dataclass(frozen=True)
class Resend:
    """CF order: a new voucher password by SMS (the old one stops working)."""

    no: str


@dataclass(frozen=True)
class SetAddress:
    """DZ text: the delivery address for physical goods (§2.2.20)."""

    text: str


@dataclass(frozen=True)
class Verify:
    """YZ order pwd, or a bare reply ``order pwd``: merchant staff verify a voucher (§3.6.2)."""

    no: str
    password: str


@dataclass(frozen=True)
class Categories:
    """FL [page]: the category codes that SP takes (§2.2.2)."""

    page: int = 1


@dataclass(frozen=True)
class Announcements:
    """GG [P page]: the mall's announcements; GG id: one in full (§2.2.4)."""

    announcement_id: int | None = None
    page: int = 1


@dataclass(frozen=True)
class MyMessages:
    """WDLY [page]: the messages one has left, with the staff's replies (§2.2.19)."""

    page: int = 1


@dataclass(frozen=True)
class LeaveMessage:
    """LY text: leave a message to the operator's staff (§2.2.13)."""

    text: str


@dataclass(frozen=True)
class SetPasswords:
    """MM [code points_pwd second_pwd]: ask for a code, then set both points passwords."""

    code: str | None = None
    points_password: str = ""
    second_password: str = ""


@dataclass(frozen=True)
class Staff:
    """YG [phone | DEL phone]: a merchant owner lists, adds or removes verifier phones."""

    action: str = "list"
    phone: str = ""


Command = (
    Help
    | Balance
    | History
    | OptOut
    | OptIn
    | SetLanguage
    | More
    | Unknown
    | BadArguments
    | Activities
    | ListItems
    | Search
    | Detail
    | Redeem
    | Confirm
    | Orders
    | CancelOrder
    | Resend
    | SetAddress
    | Verify
    | SetPasswords
    | Staff
    | LeaveMessage
    | Categories
    | Announcements
    | MyMessages
)

PRIORITY = (Help, OptOut, OptIn)
"""Commands that always win over a pending confirmation or conversation (DESIGN.md §6)."""
