"""Inbound messages: every text received is kept, claimed once by its channel's id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.platform.inputs import MalformedInput
from core.platform.prepared import Prepared
from core.platform.schema import inbound

MAX_TEXT = 4000
MAX_EXTERNAL_ID = 64
"""Characters of a channel's message id (``inbound.external_id``)."""
MAX_ADDRESS = 32
"""Characters of a sender or recipient address (``inbound.sender``, ``inbound.recipient``)."""


def check_envelope(external_id: str, sender: str, recipient: str) -> None:
    """Refuse an envelope no carrier sends and the inbound table cannot hold.

    Raises ``MalformedInput`` (its adapter answers 400) for an empty or over-long message id
    (more than ``MAX_EXTERNAL_ID`` characters, or not printable), an empty sender, or a sender
    or recipient longer than ``MAX_ADDRESS`` characters or not printable (a NUL, a line
    break). A sender that is no phone number is not refused here: the hall answers it
    (``bad_sender``).
    """
    if not external_id or len(external_id) > MAX_EXTERNAL_ID or not external_id.isprintable():
        raise MalformedInput("id", f"a message id is 1-{MAX_EXTERNAL_ID} printable characters")
    if not sender or len(sender) > MAX_ADDRESS or not sender.isprintable():
        raise MalformedInput("from", f"a sender is 1-{MAX_ADDRESS} printable characters")
    if len(recipient) > MAX_ADDRESS or not recipient.isprintable():
        raise MalformedInput("to", f"a recipient is at most {MAX_ADDRESS} printable characters")


def storable(text: str, limit: int) -> str:
    """Text every database can store: no NUL, no lone surrogate, at most ``limit`` characters.

    Whatever arrives is kept; what cannot be stored is marked with U+FFFD rather
    than losing the whole record.
    """
    clean = text[:limit].replace("\x00", "\ufffd")
    return clean.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@dataclass(frozen=True)
class Claim:
    """``inbound_id`` is None when the message was delivered before; ``reply`` is then its reply."""

    inbound_id: int | None
    reply: str | None = None


def _claim_statement(dialect_insert: type) -> Prepared:
    return Prepared(
        dialect_insert(inbound)
        .values(
            channel=bindparam("channel"),
            external_id=bindparam("external_id"),
            sender=bindparam("sender"),
            recipient=bindparam("recipient"),
            text=bindparam("text"),
            received_at=bindparam("now"),
            status="received",
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(inbound.c.id)
    )


_CLAIM = {
    "sqlite": _claim_statement(sqlite.insert),  # type: ignore[arg-type]
    "postgresql": _claim_statement(postgresql.insert),  # type: ignore[arg-type]
}
_FIRST_REPLY = Prepared(
    select(inbound.c.reply).where(
        and_(
            inbound.c.channel == bindparam("channel"),
            inbound.c.external_id == bindparam("eid"),
            inbound.c.sender == bindparam("sender"),
        )
    )
)
_COUNT_SINCE = Prepared(
    select(func.count())
    .select_from(inbound)
    .where(
        and_(inbound.c.sender == bindparam("sender"), inbound.c.received_at > bindparam("since"))
    )
)
_FINISH = Prepared(
    update(inbound)
    .where(inbound.c.id == bindparam("iid"))
    .values(status=bindparam("status"), reply=bindparam("reply"))
)


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
    """Record a delivery atomically; a redelivery (same channel and id) gets the first reply.

    The first reply goes back only to the number it answered: a message under a known id
    from another sender (a provider bug, or someone replaying ids) is a duplicate with an
    empty reply, never another subscriber's answer.
    """
    external_id = storable(external_id, 64)
    new_id = _CLAIM[conn.dialect.name].scalar(
        conn,
        channel=channel,
        external_id=external_id,
        sender=storable(sender, 32),
        recipient=storable(recipient, 32),
        text=storable(text, MAX_TEXT),
        now=now,
    )
    if new_id is not None:
        return Claim(int(new_id))
    reply = _FIRST_REPLY.scalar(conn, channel=channel, eid=external_id, sender=storable(sender, 32))
    return Claim(None, reply or "")


def count_since(conn: Connection, sender: str, since: int) -> int:
    return int(_COUNT_SINCE.scalar(conn, sender=sender, since=since))


def finish(conn: Connection, inbound_id: int, status: str, reply: str) -> None:
    _FINISH.run(conn, iid=inbound_id, status=status, reply=reply)
