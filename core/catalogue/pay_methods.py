"""Payment methods (§3.5.6): which an item takes, and what an order of it costs.

``points`` pays the points price; ``points_cash`` the points price plus the
item's ``cash_cents``; ``cash``, ``phone_bill`` and ``online_bank`` pay the
item's full money price ``price_cents`` and no points. An item lists the methods
it takes in ``item.pay_methods`` (comma-separated, default ``points``, or
``points_cash`` when it has ``cash_cents``); never both ``points`` and ``points_cash``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from core.catalogue.errors import MethodNotOffered
from core.platform.prepared import Prepared
from core.platform.schema import PAY_METHODS, item

CASH_METHODS = ("cash", "phone_bill", "online_bank")
_OFFERED = Prepared(select(item.c.pay_methods).where(item.c.id == bindparam("iid")))


def parse(text: str | None) -> tuple[str, ...]:
    """``"points, points_cash"`` → ``("points", "points_cash")``; refuses unknown names."""
    names = tuple(dict.fromkeys(p.strip().lower() for p in (text or "").split(",") if p.strip()))
    unknown = [n for n in names if n not in PAY_METHODS]
    if unknown:
        raise ValueError(f"unknown payment method {unknown[0]!r} (known: {', '.join(PAY_METHODS)})")
    return names or ("points",)


def offered_by(conn: Connection, item_id: int) -> tuple[str, ...]:
    return parse(_OFFERED.scalar(conn, iid=item_id))


def amounts(
    *,
    code: str,
    offered: tuple[str, ...],
    method: str,
    points: int,
    cash_cents: tuple[Any, ...] | None,
    qty: int,
) -> tuple[int, int]:
    """(points, cents) an order of ``qty`` costs by ``method``; refuses a method not offered."""
    if method not in offered:
        raise MethodNotOffered(code, method, offered)
    part, price = cash_cents or (None, None)
    if method == "points":
        return points * qty, 0
    if method == "points_cash":
        if not part:
            raise MethodNotOffered(code, method, offered)
        return points * qty, int(part) * qty
    if not price:
        raise MethodNotOffered(code, method, offered)
    return 0, int(price) * qty


def check(methods: tuple[str, ...], cash_cents: int | None, price_cents: int | None) -> str | None:
    """Why an item with these prices cannot take these methods, or None (catalogue import).

    ``points`` and ``points_cash`` both charge the item's one points price, so an item
    offering both would sell the same thing with and without the cash part (§3.5.6):
    an item takes one of them.
    """
    if "points" in methods and "points_cash" in methods:
        return "points and points_cash share the points price: offer one of them"
    if "points_cash" in methods and not cash_cents:
        return "points_cash needs cash_cents"
    if any(m in CASH_METHODS for m in methods) and not price_cents:
        return "cash, phone_bill and online_bank need price_cents"
    return None


def money_items(conn: Connection) -> int:
    """How many active items take a method with money (start-up needs a gateway then)."""
    return int(
        conn.execute(
            select(func.count()).where(item.c.active.is_(True), item.c.pay_methods != "points")
        ).scalar_one()
    )
