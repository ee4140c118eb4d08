"""The buying side's screens (§2.2.10–20) as data: cart, checkout, orders, reviews, messages,
addresses. Each reads the database and returns a ``Screen``; nothing here changes anything.

Payloads (signed by ``bot.callbacks``): ``a CODE`` add to cart; ``k`` the cart, ``k + CODE`` /
``k - CODE`` one more or less, ``k d CODE`` remove, ``k f CODE`` move to favourites;
``co`` check out, ``co A`` with address id A (0: none needed), ``co n`` type a note, ``co s``
place the order; ``o P`` my orders page P, ``o d NO`` one order, ``o x NO`` cancel it;
``r CODE`` an item's reviews, ``r w NO`` review an order, ``r s NO SCORE`` its score;
``m`` my messages, ``m n`` leave one; ``z`` addresses, ``z n`` add one (``z c`` during
checkout), ``z s ID`` make default, ``z d ID`` delete.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from bot.screens import Button, Screen
from bot.texts import ct, masked
from core.catalogue import catalogue
from core.feedback import messages, reviews
from core.orders import cart, logistics, orders, states
from core.orders.orders import OrderView
from core.platform.schema import ORDER_STATUSES
from core.platform.schema import orders as orders_table
from core.recharge import topups
from core.subscribers import addresses
from handlers.i18n import t, yuan

ORDERS_PER_PAGE = 6
REVIEWS_SHOWN = 5
MESSAGES_SHOWN = 5
STARS = "★★★★★"


def status_word(lang: str, status: str) -> str:
    return t(lang, f"status_{status}") if status in ORDER_STATUSES else status


def account_row(lang: str) -> list[list[Button]]:
    """The way into the buying side, added under the home screen."""
    return [
        [Button(ct(lang, "btn_cart"), "k"), Button(ct(lang, "btn_orders"), "o 1")],
        [Button(ct(lang, "btn_messages"), "m"), Button(ct(lang, "btn_addresses"), "z")],
    ]


def cart_screen(conn: Connection, subscriber_id: int, lang: str, notice: str = "") -> Screen:
    """§2.2.10: the lines with +/−, remove and move-to-favourites, then check out."""
    lines = cart.lines(conn, subscriber_id)
    head = f"{notice}\n" if notice else ""
    if not lines:
        return Screen(head + ct(lang, "cart_empty"), [[Button(ct(lang, "btn_continue"), "h")]])
    text = [ct(lang, "cart_title")]
    rows: list[list[Button]] = []
    for line in lines:
        name = line.name(lang)
        text.append(ct(lang, "cart_line", name=name, qty=line.qty, points=line.total))
        rows.append(
            [
                Button(f"➖ {name[:12]}", f"k - {line.code}"),
                Button(f"➕ {line.qty}", f"k + {line.code}"),
                Button(ct(lang, "btn_fav"), f"k f {line.code}"),
                Button(ct(lang, "btn_remove"), f"k d {line.code}"),
            ]
        )
    text.append(ct(lang, "cart_total", points=sum(line.total for line in lines)))
    rows.append([Button(ct(lang, "btn_checkout"), "co"), Button(ct(lang, "btn_continue"), "h")])
    return Screen(head + "\n".join(text), rows)


def pick_address(conn: Connection, subscriber_id: int, lang: str) -> Screen:
    known = addresses.all_of(conn, subscriber_id)
    rows = [[Button(_address_label(a), f"co {a.id}")] for a in known]
    rows.append([Button(ct(lang, "btn_add_address"), "z c")])
    rows.append([Button(ct(lang, "btn_back"), "k")])
    key = "co_pick_address" if known else "co_no_address"
    return Screen(ct(lang, key), rows)


def _address_label(a: addresses.AddressView) -> str:
    star = "★ " if a.is_default else ""
    label = f"[{a.label}] " if a.label else ""
    return f"{star}{label}{a.text}"[:60]


def needs_address(conn: Connection, subscriber_id: int) -> bool:
    return any(line.kind == "physical" for line in cart.lines(conn, subscriber_id))


def confirm_screen(
    conn: Connection, subscriber_id: int, lang: str, address_id: int, note: str
) -> Screen:
    """§2.2.11: the items, the chosen address and the note, then place the order."""
    lines = cart.lines(conn, subscriber_id)
    if not lines:
        return cart_screen(conn, subscriber_id, lang)
    shown = ct(lang, "co_none")
    if address_id:
        shown = addresses.get(conn, subscriber_id, address_id).text
    body = "\n".join(
        ct(lang, "cart_line", name=line.name(lang), qty=line.qty, points=line.total)
        for line in lines
    )
    text = ct(
        lang,
        "co_summary",
        lines=body,
        address=shown,
        note=note or ct(lang, "co_none"),
        points=sum(line.total for line in lines),
    )
    rows = [
        [Button(ct(lang, "btn_note"), "co n"), Button(ct(lang, "btn_submit"), "co s")],
        [Button(ct(lang, "btn_back"), "k")],
    ]
    return Screen(text, rows)


def submitted_text(lang: str, points: int, msisdn: str, minutes: int) -> str:
    return ct(lang, "co_submitted", points=points, number=masked(msisdn), minutes=minutes)


def orders_screen(conn: Connection, subscriber_id: int, lang: str, page: int) -> Screen:
    """§2.2.15: my orders, newest first, each a button to its detail."""
    found, total = orders.recent(conn, subscriber_id, (page - 1) * ORDERS_PER_PAGE, ORDERS_PER_PAGE)
    if not found:
        return Screen(ct(lang, "orders_empty"), [[Button(ct(lang, "btn_continue"), "h")]])
    rows = [
        [
            Button(
                ct(
                    lang,
                    "order_line",
                    no=o.no,
                    name=o.item_name(lang)[:14],
                    qty=o.qty,
                    status=status_word(lang, o.status),
                ),
                f"o d {o.no}",
            )
        ]
        for o in found
    ]
    nav = []
    if page > 1:
        nav.append(Button(ct(lang, "prev"), f"o {page - 1}"))
    if page * ORDERS_PER_PAGE < total:
        nav.append(Button(ct(lang, "next"), f"o {page + 1}"))
    if nav:
        rows.append(nav)
    rows.append([Button(ct(lang, "back_home"), "h")])
    return Screen(ct(lang, "orders_title"), rows)


def _when(at: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(at, tz).strftime("%m-%d %H:%M")


def order_screen(
    conn: Connection, order: OrderView, lang: str, tz: ZoneInfo, notice: str = ""
) -> Screen:
    """One order: status, address, note, carrier and tracking number, its events."""
    extra = conn.execute(
        select(orders_table.c.note).where(orders_table.c.id == order.id)
    ).scalar_one_or_none()
    text = [notice] if notice else []
    text.append(
        ct(
            lang,
            "order_detail",
            no=order.no,
            name=order.item_name(lang),
            qty=order.qty,
            points=order.points,
            status=status_word(lang, order.status),
        )
    )
    topup = topups.by_order(conn, order.no) if order.kind == "credit" else None
    if topup is not None:
        state = t(lang, f"topup_{topup.status}")
        text.append(t(lang, "dd_topup", yuan=yuan(topup.amount_cents), state=state))
    if order.address:
        text.append(ct(lang, "order_address", address=order.address))
    if extra:
        text.append(ct(lang, "order_note", note=extra))
    if order.carrier or order.tracking_no:
        text.append(
            ct(
                lang,
                "order_logistics",
                carrier=order.carrier or "",
                tracking=order.tracking_no or "",
            )
        )
    for event in logistics.events(conn, order.id):
        text.append(
            ct(
                lang,
                "order_event",
                at=_when(event.at, tz),
                status=status_word(lang, event.to_status),
                note=event.note,
            ).rstrip()
        )
    rows: list[list[Button]] = []
    if cancellable(order):
        rows.append([Button(ct(lang, "btn_cancel_order"), f"o x {order.no}")])
    if order.status in reviews.REVIEWABLE and not reviews.reviewed(conn, order.id):
        rows.append([Button(ct(lang, "btn_review"), f"r w {order.no}")])
    rows.append([Button(ct(lang, "btn_back"), "o 1")])
    return Screen("\n".join(text), rows)


def cancellable(order: OrderView) -> bool:
    """What ``core.orders.orders.cancel`` allows: unpaid, an unused voucher, an unshipped parcel."""
    return order.status in states.UNPAID or (
        order.status == "voucher_issued" or (order.status == "paid" and order.kind == "physical")
    )


def reviews_screen(conn: Connection, code: str, lang: str) -> Screen | None:
    """§2.2.17: an item's visible reviews with their average score."""
    it = catalogue.find_item(conn, code)
    if it is None:
        return None
    shown, rated = reviews.for_item(conn, code, REVIEWS_SHOWN)
    back = [[Button(ct(lang, "btn_back"), f"x {code}")]]
    if not rated.count:
        return Screen(ct(lang, "reviews_empty", name=it.name(lang)), back)
    text = [ct(lang, "reviews_title", name=it.name(lang), count=rated.count, avg=rated.average())]
    text.extend(
        ct(lang, "review_line", stars=STARS[: r.score], text=r.text or "-", who=masked(r.msisdn))
        for r in shown
    )
    return Screen("\n".join(text), back)


def score_screen(order: OrderView, lang: str) -> Screen:
    rows = [[Button(STARS[:score], f"r s {order.no} {score}") for score in range(1, 6)]]
    rows.append([Button(ct(lang, "btn_back"), f"o d {order.no}")])
    return Screen(ct(lang, "review_pick", no=order.no, name=order.item_name(lang)), rows)


def messages_screen(conn: Connection, subscriber_id: int, lang: str, notice: str = "") -> Screen:
    """§2.2.19: my messages with the staff's replies."""
    mine = messages.mine(conn, subscriber_id, MESSAGES_SHOWN)
    text = [notice] if notice else []
    if not mine:
        text.append(ct(lang, "messages_empty"))
    else:
        text.append(ct(lang, "messages_title"))
        for msg in mine:
            text.append(ct(lang, "message_line", id=msg.id, text=msg.text))
            text.extend(ct(lang, "message_reply", text=r.text) for r in msg.replies)
    rows = [[Button(ct(lang, "btn_leave"), "m n")], [Button(ct(lang, "back_home"), "h")]]
    return Screen("\n".join(text), rows)


def addresses_screen(conn: Connection, subscriber_id: int, lang: str, notice: str = "") -> Screen:
    """§2.2.20: saved addresses; make one the default, delete, add."""
    known = addresses.all_of(conn, subscriber_id)
    text = [notice] if notice else []
    text.append(ct(lang, "addresses_title" if known else "addresses_empty"))
    rows: list[list[Button]] = []
    for a in known:
        text.append(ct(lang, "address_line", star="★ " if a.is_default else "· ", text=a.text))
        row = [Button(f"🗑 {a.text[:16]}", f"z d {a.id}")]
        if not a.is_default:
            row.insert(0, Button(ct(lang, "btn_default"), f"z s {a.id}"))
        rows.append(row)
    rows.append([Button(ct(lang, "btn_add_address"), "z n")])
    rows.append([Button(ct(lang, "back_home"), "h")])
    return Screen("\n".join(text), rows)
