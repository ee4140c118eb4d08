"""The points-system interface (§3.7): identity and balance, deduction with an idempotency key.

The small internal API other parts (the POS flow, later partners) use instead of
the ledger's tables: a phone number in, an ``Identity`` or a ``Deduction`` out.
A deduction retried with the same key returns the first result and takes
nothing twice; the same key with another amount raises ``DuplicateEntry``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from core.platform.schema import account, entry
from core.points import ledger
from core.points.errors import NoAccount
from core.subscribers import subscribers
from core.subscribers.errors import UnknownSubscriber


@dataclass(frozen=True)
class Identity:
    subscriber_id: int
    msisdn: str
    account_id: int
    account_type: str
    balance: int
    held: int

    @property
    def available(self) -> int:
        return self.balance - self.held


@dataclass(frozen=True)
class Deduction:
    entry_id: int
    points: int
    balance_after: int
    repeated: bool
    """True when this key had already been used: nothing was taken this time."""


def identify(conn: Connection, msisdn: str) -> Identity:
    """Who ``msisdn`` (E.164) is and what is on the points account."""
    found = subscribers.find(conn, msisdn)
    if found is None:
        raise UnknownSubscriber(msisdn)
    row = conn.execute(
        select(account.c.id, account.c.type, account.c.balance, account.c.held).where(
            account.c.subscriber_id == found.id
        )
    ).first()
    if row is None:
        raise NoAccount(msisdn)
    return Identity(found.id, msisdn, int(row[0]), row[1], int(row[2]), int(row[3]))


def deduct(
    conn: Connection, *, msisdn: str, points: int, key: str, ref: str, now: int
) -> Deduction:
    """Take ``points`` from the account of ``msisdn`` once per ``key``.

    Raises ``InsufficientPoints`` (nothing changed) when the available points are short.
    """
    who = identify(conn, msisdn)
    posted = ledger.debit(
        conn,
        account_id=who.account_id,
        amount=points,
        kind="redeem",
        source="pos",
        key=key,
        reason_key="pos",
        reason_args={"ref": ref},
        ref=ref[:64],
        now=now,
    )
    amount = conn.execute(select(entry.c.amount).where(entry.c.id == posted.entry_id)).scalar_one()
    balance = conn.execute(
        select(account.c.balance).where(account.c.id == who.account_id)
    ).scalar_one()
    return Deduction(posted.entry_id, -int(amount), int(balance), not posted.created)
