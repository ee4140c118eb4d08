"""Which root keys the stored hashes and derived keys were made under (issue 13 §2).

After ``pointshall key rotate`` new secrets use the new key; an old key may leave the key
file once nothing still needs it: no live code or voucher, no terminal, bearer token or
points password made under it. Codes and vouchers expire by themselves; terminals are
re-keyed (``merchant terminal add`` again), tokens re-issued, points passwords set again
(``MM``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, and_, func, not_, select

from core.platform.keys import LEGACY_ID
from core.platform.schema import (
    chat_login,
    otp,
    password_otp,
    staff,
    staff_change,
    staff_login,
    subscriber_secret,
    terminal,
    voucher,
)


@dataclass(frozen=True)
class Usage:
    what: str
    kid: str
    count: int


def _hashed(now: int) -> list[tuple[str, Column[Any], ColumnElement[bool] | None]]:
    return [
        ("live vouchers", voucher.c.password_hash, voucher.c.status.in_(("issued", "locked"))),
        ("order codes", otp.c.code_hash, and_(otp.c.used_at.is_(None), otp.c.expires_at > now)),
        ("chat login codes", chat_login.c.code_hash, chat_login.c.expires_at > now),
        (
            "console login codes",
            staff_login.c.code_hash,
            and_(staff_login.c.used_at.is_(None), staff_login.c.expires_at > now),
        ),
        ("password codes", password_otp.c.code_hash, password_otp.c.expires_at > now),
        ("staff tokens", staff.c.token_hash, staff.c.disabled_at.is_(None)),
        # a creation waiting for a second admin (issue 13 §3): its token works once approved
        ("pending staff tokens", staff_change.c.token_hash, staff_change.c.status == "pending"),
        ("points passwords", subscriber_secret.c.points_password_hash, None),
    ]


def usage(conn: Connection, key_ids: Sequence[str], now: int) -> list[Usage]:
    """How many live secrets each of ``key_ids`` (and ``k0``, untagged) made, by kind;
    ``now`` is UTC epoch seconds. Kinds a key made none of are left out."""
    found: list[Usage] = []
    for what, column, live in _hashed(now):
        for kid in (k for k in key_ids if k != LEGACY_ID):
            found.append(Usage(what, kid, _count(conn, column.like(f"{kid}$%"), live)))
        untagged = not_(column.like("k%$%"))  # made before key ids
        found.append(Usage(what, LEGACY_ID, _count(conn, untagged, live)))
    rows = conn.execute(
        select(terminal.c.key_id, func.count())
        .where(terminal.c.active.is_(True))
        .group_by(terminal.c.key_id)
    ).all()
    found.extend(Usage("terminals", str(kid), int(n)) for kid, n in rows)
    return [u for u in found if u.count]


def _count(conn: Connection, where: ColumnElement[bool], live: ColumnElement[bool] | None) -> int:
    condition = where if live is None else and_(where, live)
    return int(conn.execute(select(func.count()).where(condition)).scalar_one())
