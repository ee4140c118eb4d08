"""Lot expiry over every account, in batches an hourly job can walk through.

``ledger.expire_due`` does the work for one account; this walks the accounts with
due lots in id order from a cursor, so a batch always moves forward even when an
account cannot expire anything yet (its points are held by an unpaid order).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, select

from core.platform.schema import account, lot
from core.platform.sql import for_update
from core.points import ledger


@dataclass(frozen=True)
class ExpiryBatch:
    accounts: int
    points: int
    last_account_id: int | None

    @property
    def done(self) -> bool:
        return self.last_account_id is None


def expire_lots_batch(
    conn: Connection, *, now: int, after: int = 0, limit: int = 200
) -> ExpiryBatch:
    """Expire the due lots of up to ``limit`` accounts with ids above ``after``.

    ``last_account_id`` is the cursor for the next batch, None when this was the last.
    """
    ids = [
        int(a)
        for a in conn.execute(
            select(lot.c.account_id)
            .where(and_(lot.c.remaining > 0, lot.c.expires_at <= now, lot.c.account_id > after))
            .group_by(lot.c.account_id)
            .order_by(lot.c.account_id)
            .limit(limit)
        ).scalars()
    ]
    points = 0
    for account_id in ids:
        if for_update(conn):  # the same lock redemptions take, so held points stay protected
            conn.execute(select(account.c.id).where(account.c.id == account_id).with_for_update())
        points += ledger.expire_due(conn, account_id, now)
    last = ids[-1] if len(ids) == limit else None
    return ExpiryBatch(len(ids), points, last)
