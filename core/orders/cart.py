"""The cart (§2.2.10): what a logged-in subscriber means to buy, one line per item.

Quantities stay within ``1..max_qty`` (the same bound as one redemption); a line
that would drop to 0 is removed. Moving a line to favourites inserts into the
``favourite`` table (at most once per item) and removes the line, in one unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, select, update

from core.catalogue import catalogue
from core.catalogue.errors import UnknownItem
from core.orders.errors import BadQuantity
from core.platform.schema import cart_line, favourite, item
from core.platform.sql import insert_ignoring

MAX_LINES = 20


@dataclass(frozen=True)
class CartLine:
    item_id: int
    code: str
    name_zh: str
    name_en: str
    kind: str
    points: int
    qty: int

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    @property
    def total(self) -> int:
        return self.points * self.qty


def lines(conn: Connection, subscriber_id: int) -> list[CartLine]:
    rows = conn.execute(
        select(
            item.c.id,
            item.c.code,
            item.c.name_zh,
            item.c.name_en,
            item.c.kind,
            item.c.points,
            cart_line.c.qty,
        )
        .select_from(cart_line.join(item, item.c.id == cart_line.c.item_id))
        .where(cart_line.c.subscriber_id == subscriber_id)
        .order_by(cart_line.c.id)
    ).all()
    return [CartLine(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6])) for r in rows]


def _item_id(conn: Connection, code: str) -> int:
    found = catalogue.find_item(conn, code)
    if found is None:
        raise UnknownItem(code)
    return found.id


def add(conn: Connection, subscriber_id: int, code: str, now: int, max_qty: int) -> int:
    """Put one more of ``code`` in the cart; return the line's quantity."""
    item_id = _item_id(conn, code)
    inserted = conn.execute(
        insert_ignoring(conn, cart_line, "subscriber_id", "item_id")
        .values(subscriber_id=subscriber_id, item_id=item_id, qty=1, added_at=now)
        .returning(cart_line.c.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return 1
    return change(conn, subscriber_id, code, +1, max_qty)


def change(conn: Connection, subscriber_id: int, code: str, delta: int, max_qty: int) -> int:
    """Add ``delta`` to the line's quantity (0 removes it); return the new quantity."""
    item_id = _item_id(conn, code)
    where = and_(cart_line.c.subscriber_id == subscriber_id, cart_line.c.item_id == item_id)
    current = conn.execute(select(cart_line.c.qty).where(where)).scalar_one_or_none()
    if current is None:
        return 0
    wanted = int(current) + delta
    if wanted <= 0:
        conn.execute(delete(cart_line).where(where))
        return 0
    if wanted > max_qty:
        raise BadQuantity(wanted, max_qty)
    conn.execute(update(cart_line).where(where).values(qty=wanted))
    return wanted


def remove(conn: Connection, subscriber_id: int, code: str) -> bool:
    item_id = _item_id(conn, code)
    gone = conn.execute(
        delete(cart_line).where(
            and_(cart_line.c.subscriber_id == subscriber_id, cart_line.c.item_id == item_id)
        )
    ).rowcount
    return bool(gone)


def move_to_favourites(conn: Connection, subscriber_id: int, code: str, now: int) -> bool:
    """Remove the line and remember the item as a favourite; False if it was not in the cart."""
    if not remove(conn, subscriber_id, code):
        return False
    conn.execute(
        insert_ignoring(conn, favourite, "subscriber_id", "item_id").values(
            subscriber_id=subscriber_id, item_id=_item_id(conn, code), created_at=now
        )
    )
    return True


def clear(conn: Connection, subscriber_id: int, item_ids: list[int]) -> None:
    conn.execute(
        delete(cart_line).where(
            and_(cart_line.c.subscriber_id == subscriber_id, cart_line.c.item_id.in_(item_ids))
        )
    )
