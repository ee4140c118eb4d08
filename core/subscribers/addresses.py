"""Delivery addresses (§2.2.20): several per subscriber, one of them the default.

The newest default wins (``default_text``); deleting the default
makes the newest remaining address the default. ``DZ text`` by SMS adds one and
makes it the default, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, select, update

from core.platform.schema import address
from core.subscribers.errors import BadAddress, TooManyAddresses, UnknownAddress

MAX_ADDRESSES = 10
MIN_CHARS = 5
MAX_CHARS = 200
MAX_LABEL = 32


@dataclass(frozen=True)
class AddressView:
    id: int
    text: str
    label: str | None
    is_default: bool


def all_of(conn: Connection, subscriber_id: int) -> list[AddressView]:
    rows = conn.execute(
        select(address.c.id, address.c.text, address.c.label, address.c.is_default)
        .where(address.c.subscriber_id == subscriber_id)
        .order_by(address.c.is_default.desc(), address.c.id.desc())
    ).all()
    return [AddressView(int(r[0]), r[1], r[2], bool(r[3])) for r in rows]


def get(conn: Connection, subscriber_id: int, address_id: int) -> AddressView:
    for found in all_of(conn, subscriber_id):
        if found.id == address_id:
            return found
    raise UnknownAddress(address_id)


def add(
    conn: Connection, subscriber_id: int, text: str, now: int, label: str | None = None
) -> AddressView:
    """Save a new address; the first one becomes the default."""
    text = " ".join(text.split())
    if not MIN_CHARS <= len(text) <= MAX_CHARS:
        raise BadAddress(text)
    known = all_of(conn, subscriber_id)
    if len(known) >= MAX_ADDRESSES:
        raise TooManyAddresses(MAX_ADDRESSES)
    first = not known
    new_id = conn.execute(
        address.insert()
        .values(
            subscriber_id=subscriber_id,
            text=text,
            label=(label or None) and label[:MAX_LABEL],
            is_default=first,
            created_at=now,
        )
        .returning(address.c.id)
    ).scalar_one()
    return AddressView(int(new_id), text, label, first)


def default_text(conn: Connection, subscriber_id: int) -> str | None:
    """The address physical goods are shipped to: the newest default, else the newest."""
    return conn.execute(
        select(address.c.text)
        .where(address.c.subscriber_id == subscriber_id)
        .order_by(address.c.is_default.desc(), address.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def add_default(conn: Connection, subscriber_id: int, text: str, now: int) -> None:
    """Save ``text`` (cut to 200 characters) as a new address and make it the default (``DZ``)."""
    conn.execute(
        update(address).where(address.c.subscriber_id == subscriber_id).values(is_default=False)
    )
    conn.execute(
        address.insert().values(
            subscriber_id=subscriber_id, text=text[:200], is_default=True, created_at=now
        )
    )


def set_default(conn: Connection, subscriber_id: int, address_id: int) -> None:
    get(conn, subscriber_id, address_id)
    conn.execute(
        update(address)
        .where(address.c.subscriber_id == subscriber_id)
        .values(is_default=address.c.id == address_id)
    )


def remove(conn: Connection, subscriber_id: int, address_id: int) -> None:
    gone = get(conn, subscriber_id, address_id)
    conn.execute(
        delete(address).where(
            and_(address.c.subscriber_id == subscriber_id, address.c.id == address_id)
        )
    )
    rest = all_of(conn, subscriber_id)
    if gone.is_default and rest:
        newest = max(rest, key=lambda a: a.id)
        set_default(conn, subscriber_id, newest.id)
