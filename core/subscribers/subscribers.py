"""Subscribers: a phone number with a language and a marketing opt-out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Connection, bindparam, select, update

from core.platform.prepared import Prepared
from core.platform.schema import subscriber
from core.platform.sql import insert_ignoring

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Subscriber:
    id: int
    msisdn: str
    lang: str
    opted_out: bool
    name: str | None = None


_COLUMNS = (
    subscriber.c.id,
    subscriber.c.msisdn,
    subscriber.c.lang,
    subscriber.c.opted_out,
    subscriber.c.name,
)
"""A ``Subscriber``'s fields, in order: what ``find`` selects and ``peek_columns`` peek."""
_FIND = Prepared(select(*_COLUMNS).where(subscriber.c.msisdn == bindparam("msisdn")))


def peek_columns(msisdn: BindParameter[str]) -> list[ColumnElement[Any]]:
    """The subscriber of ``msisdn`` as peek columns (``core.messaging.inbound.Claimer``):
    id, msisdn, lang, opted_out, name, each NULL when there is none; ``from_peek`` reads
    them back."""
    return [select(c).where(subscriber.c.msisdn == msisdn).scalar_subquery() for c in _COLUMNS]


def from_peek(values: Sequence[Any]) -> Subscriber | None:
    """The subscriber read by ``peek_columns`` (or ``_COLUMNS``), or None when there was
    none."""
    sid, number, lang, opted_out, name = values
    if sid is None:
        return None
    return Subscriber(int(sid), number, lang, bool(opted_out), name)


def default_lang(msisdn: str, home_lang: str = "zh") -> str:
    """Numbers of the operator's home country (+86) get Chinese; others English."""
    return home_lang if msisdn.startswith("+86") else "en"


def find(conn: Connection, msisdn: str) -> Subscriber | None:
    row = _FIND.first(conn, msisdn=msisdn)
    return from_peek(row) if row is not None else None


def get_or_create(
    conn: Connection,
    msisdn: str,
    now: int,
    home_lang: str = "zh",
    *,
    found: Subscriber | None = None,
) -> Subscriber:
    """Return the subscriber for ``msisdn``, creating one on first contact. ``found`` is the
    subscriber already read in this transaction (``from_peek``), if any: not read again."""
    found = found if found is not None else find(conn, msisdn)
    if found is not None:
        return found
    conn.execute(
        insert_ignoring(conn, subscriber, "msisdn").values(
            msisdn=msisdn, lang=default_lang(msisdn, home_lang), opted_out=False, created_at=now
        )
    )
    created = find(conn, msisdn)
    assert created is not None
    return created


def set_lang(conn: Connection, subscriber_id: int, lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    conn.execute(update(subscriber).where(subscriber.c.id == subscriber_id).values(lang=lang))


def set_opted_out(conn: Connection, subscriber_id: int, opted_out: bool) -> None:
    conn.execute(
        update(subscriber).where(subscriber.c.id == subscriber_id).values(opted_out=opted_out)
    )
