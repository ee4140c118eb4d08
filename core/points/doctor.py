"""Prove the ledger's invariants hold for every account.

* ``balance == sum(entries)``  — the balance is only a cache of the journal;
* ``held == sum(active holds)``;
* ``balance == sum(lot.remaining)`` — every point on the balance sits in a lot.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, func, literal, select

from core.platform.schema import account, entry, hold, lot


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    check: str
    cached: int
    actual: int

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.check} is {self.cached}, should be {self.actual}"


@dataclass(frozen=True)
class DoctorReport:
    accounts: int
    entries: int
    discrepancies: list[Discrepancy]

    @property
    def ok(self) -> bool:
        return not self.discrepancies


def _mismatches(
    conn: Connection,
    check: str,
    cached: ColumnElement[int],
    child: ColumnElement[int],
    key: ColumnElement[int],
    where: ColumnElement[bool] | None = None,
) -> list[Discrepancy]:
    sums = select(key.label("account_id"), func.sum(child).label("total"))
    if where is not None:
        sums = sums.where(where)
    sums_sq = sums.group_by(key).subquery()
    actual = func.coalesce(sums_sq.c.total, literal(0))
    rows = conn.execute(
        select(account.c.id, cached, actual)
        .select_from(account.outerjoin(sums_sq, sums_sq.c.account_id == account.c.id))
        .where(cached != actual)
        .order_by(account.c.id)
        .limit(1000)
    ).all()
    return [Discrepancy(int(r[0]), check, int(r[1]), int(r[2])) for r in rows]


def examine(conn: Connection) -> DoctorReport:
    problems = [
        *_mismatches(
            conn, "balance vs entries", account.c.balance, entry.c.amount, entry.c.account_id
        ),
        *_mismatches(
            conn,
            "held vs active holds",
            account.c.held,
            hold.c.amount,
            hold.c.account_id,
            hold.c.status == "active",
        ),
        *_mismatches(conn, "balance vs lots", account.c.balance, lot.c.remaining, lot.c.account_id),
    ]
    accounts = conn.execute(select(func.count()).select_from(account)).scalar_one()
    entries = conn.execute(select(func.count()).select_from(entry)).scalar_one()
    return DoctorReport(int(accounts), int(entries), problems)
