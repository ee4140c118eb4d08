"""Inbound messages: every text received is kept, claimed once by its channel's id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Insert,
    Select,
    and_,
    bindparam,
    func,
    select,
    update,
)
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
    break). Bytes that were not UTF-8 (decoded by the web server as U+FFFD) are not
    printable here: no carrier sends them in an id or a number. A sender that is no phone
    number is not refused here: the hall answers it (``bad_sender``).
    """
    if not _printable(external_id) or len(external_id) > MAX_EXTERNAL_ID:
        raise MalformedInput("id", f"a message id is 1-{MAX_EXTERNAL_ID} printable characters")
    if not _printable(sender) or len(sender) > MAX_ADDRESS:
        raise MalformedInput("from", f"a sender is 1-{MAX_ADDRESS} printable characters")
    if len(recipient) > MAX_ADDRESS or (recipient and not _printable(recipient)):
        raise MalformedInput("to", f"a recipient is at most {MAX_ADDRESS} printable characters")


def _printable(value: str) -> bool:
    return bool(value) and value.isprintable() and "\ufffd" not in value


def storable(text: str, limit: int) -> str:
    """Text every database can store: no NUL, no lone surrogate, at most ``limit`` characters.

    Whatever arrives is kept; what cannot be stored is marked with U+FFFD rather
    than losing the whole record.
    """
    clean = text[:limit].replace("\x00", "\ufffd")
    if clean.isascii():  # no lone surrogate to mark
        return clean
    return clean.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@dataclass(frozen=True)
class Claim:
    """``inbound_id`` is None when the message was delivered before; ``reply`` is then its reply.

    ``peeked`` holds the values of the claimer's peek columns, read as the database stood
    before this message was recorded (empty without peek columns)."""

    inbound_id: int | None
    reply: str | None = None
    peeked: tuple[Any, ...] = ()


def _insert_statement(dialect_insert: type) -> Insert:
    statement: Insert = (
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
    return statement


_INSERT = {
    "sqlite": _insert_statement(sqlite.insert),  # type: ignore[arg-type]
    "postgresql": _insert_statement(postgresql.insert),  # type: ignore[arg-type]
}
_CLAIM = {name: Prepared(statement) for name, statement in _INSERT.items()}
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


PEEK_SENDER = "peek_sender"
"""The bound parameter peek columns use for the sender's number (E.164)."""


def recent_column(since: BindParameter[int]) -> ColumnElement[int]:
    """A peek column: messages recorded from the ``PEEK_SENDER`` after ``since`` (UTC epoch
    seconds), not counting the one being claimed."""
    return (
        select(func.count())
        .select_from(inbound)
        .where(and_(inbound.c.sender == bindparam(PEEK_SENDER), inbound.c.received_at > since))
        .scalar_subquery()
    )


class Claimer:
    """``claim`` that also reads ``peek`` columns (scalar expressions over other tables, bound
    by ``PEEK_SENDER`` and parameters of their own) in the same round trip (issue 15 §2).

    On PostgreSQL the claim is one statement: a data-modifying CTE inserting the message,
    and a ``SELECT`` of its id and the peek columns (which see the database as it was
    before the insert). On SQLite, where a CTE cannot insert and a statement costs no
    round trip, the peek columns are read by a ``SELECT`` just before the insert: the same
    values.
    """

    def __init__(self, peek: Sequence[ColumnElement[Any]]) -> None:
        self._peek = Prepared(select(*peek)) if peek else None

        def combined(name: str) -> Select[Any]:
            claimed = _INSERT[name].cte("claimed")
            return select(select(claimed.c.id).scalar_subquery(), *peek)

        self._combined = Prepared(combined)

    def claim(
        self,
        conn: Connection,
        *,
        channel: str,
        external_id: str,
        sender: str,
        recipient: str,
        text: str,
        now: int,
        **peek_params: Any,
    ) -> Claim:
        """Record a delivery atomically; a redelivery (same channel and id) gets the first
        reply. ``peek_params`` bind the peek columns.

        The first reply goes back only to the number it answered: a message under a known id
        from another sender (a provider bug, or someone replaying ids) is a duplicate with an
        empty reply, never another subscriber's answer.
        """
        values = _claim_values(channel, external_id, sender, recipient, text, now)
        if self._peek is None:
            return _claimed(conn, _CLAIM[conn.dialect.name].scalar(conn, **values), values, ())
        if conn.dialect.name == "postgresql":
            row = self._combined.first(conn, **values, **peek_params)
            assert row is not None
            return _claimed(conn, row[0], values, tuple(row[1:]))
        peeked = self._peek.first(conn, **peek_params)
        assert peeked is not None
        new_id = _CLAIM[conn.dialect.name].scalar(conn, **values)
        return _claimed(conn, new_id, values, tuple(peeked))


PLAIN = Claimer([])
"""The claimer without peek columns."""


def _claim_values(
    channel: str, external_id: str, sender: str, recipient: str, text: str, now: int
) -> dict[str, Any]:
    return {
        "channel": channel,
        "external_id": storable(external_id, MAX_EXTERNAL_ID),
        "sender": storable(sender, MAX_ADDRESS),
        "recipient": storable(recipient, MAX_ADDRESS),
        "text": storable(text, MAX_TEXT),
        "now": now,
    }


def _claimed(
    conn: Connection, new_id: Any, values: dict[str, Any], peeked: tuple[Any, ...]
) -> Claim:
    if new_id is not None:
        return Claim(int(new_id), None, peeked)
    reply = _FIRST_REPLY.scalar(
        conn, channel=values["channel"], eid=values["external_id"], sender=values["sender"]
    )
    return Claim(None, reply or "", peeked)


def count_since(conn: Connection, sender: str, since: int) -> int:
    return int(_COUNT_SINCE.scalar(conn, sender=sender, since=since))


def finish(conn: Connection, inbound_id: int, status: str, reply: str) -> None:
    _FINISH.run(conn, iid=inbound_id, status=status, reply=reply)
