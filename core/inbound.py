"""Inbound messages: every text received is kept, claimed once by its channel's id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select, update

from core.schema import inbound
from core.sql import insert_ignoring

MAX_TEXT = 4000


def storable(text: str, limit: int) -> str:
    """Text every database can store: no NUL, no lone surrogate, at most ``limit`` characters.

    Whatever arrives is kept; what cannot be stored is marked with U+FFFD rather
    than losing the whole record.
    """
    clean = text[:limit].replace("\x00", "\ufffd")
    return clean.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@dataclass(frozen=True)
class Claim:
    """``inbound_id`` is None when the message was delivered before; ``reply`` is then its reply."""

    inbound_id: int | None
    reply: str | None = None


def claim(
    conn: Connection,
    *,
    channel: str,
    external_id: str,
    sender: str,
    recipient: str,
    text: str,
    now: int,
) -> Claim:
    """Record a delivery atomically; a redelivery (same channel and id) gets the first reply."""
    new_id = conn.execute(
        insert_ignoring(conn, inbound, "channel", "external_id")
        .values(
            channel=channel,
            external_id=storable(external_id, 64),
            sender=storable(sender, 32),
            recipient=storable(recipient, 32),
            text=storable(text, MAX_TEXT),
            received_at=now,
            status="received",
        )
        .returning(inbound.c.id)
    ).scalar_one_or_none()
    if new_id is not None:
        return Claim(int(new_id))
    reply = conn.execute(
        select(inbound.c.reply).where(
            and_(
                inbound.c.channel == channel,
                inbound.c.external_id == storable(external_id, 64),
            )
        )
    ).scalar_one()
    return Claim(None, reply or "")


def count_since(conn: Connection, sender: str, since: int) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(inbound)
            .where(and_(inbound.c.sender == sender, inbound.c.received_at > since))
        ).scalar_one()
    )


def finish(conn: Connection, inbound_id: int, status: str, reply: str) -> None:
    conn.execute(
        update(inbound).where(inbound.c.id == inbound_id).values(status=status, reply=reply)
    )
