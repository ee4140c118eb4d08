"""My favourites (§2.2.16): a bound subscriber keeps items to come back to."""

from __future__ import annotations

from sqlalchemy import Connection, and_, delete, func, select

from core.catalogue import catalogue
from core.catalogue.catalogue import ItemView
from core.platform.schema import favourite, item
from core.platform.sql import insert_ignoring


def add(conn: Connection, subscriber_id: int, item_id: int, now: int) -> bool:
    """Keep ``item_id``; False when it was kept already (the same press twice adds one row)."""
    added = conn.execute(
        insert_ignoring(conn, favourite, "subscriber_id", "item_id").values(
            subscriber_id=subscriber_id, item_id=item_id, created_at=now
        )
    ).rowcount
    return bool(added)


def remove(conn: Connection, subscriber_id: int, item_id: int) -> bool:
    removed = conn.execute(
        delete(favourite).where(
            and_(favourite.c.subscriber_id == subscriber_id, favourite.c.item_id == item_id)
        )
    ).rowcount
    return bool(removed)


def toggle(conn: Connection, subscriber_id: int, item_id: int, now: int) -> bool:
    """Add when absent, remove when present; True when it is a favourite afterwards."""
    if remove(conn, subscriber_id, item_id):
        return False
    add(conn, subscriber_id, item_id, now)
    return True


def has(conn: Connection, subscriber_id: int, item_id: int) -> bool:
    found = conn.execute(
        select(favourite.c.id).where(
            and_(favourite.c.subscriber_id == subscriber_id, favourite.c.item_id == item_id)
        )
    ).first()
    return found is not None


def listing(
    conn: Connection, subscriber_id: int, *, offset: int = 0, limit: int = 6
) -> tuple[list[ItemView], int]:
    """The subscriber's favourites still in the catalogue, latest first; also the total."""
    kept = (
        select(favourite.c.item_id, favourite.c.id)
        .join(item, item.c.id == favourite.c.item_id)
        .where(and_(favourite.c.subscriber_id == subscriber_id, item.c.active.is_(True)))
    )
    total = conn.execute(select(func.count()).select_from(kept.subquery())).scalar_one()
    ids = [
        int(r[0])
        for r in conn.execute(kept.order_by(favourite.c.id.desc()).offset(offset).limit(limit))
    ]
    found = {it.id: it for it in catalogue.items_by_ids(conn, ids)}
    return [found[i] for i in ids if i in found], int(total)
