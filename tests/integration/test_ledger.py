"""The ledger (DESIGN.md §4): idempotent entries, lots first-expiring-first, holds, no negatives."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import Connection, select, update

from core.platform.clock import ManualClock, epoch
from core.platform.errors import DuplicateEntry
from core.platform.schema import account, entry, lot
from core.points import doctor, ledger
from core.points.errors import InsufficientPoints
from core.subscribers import subscribers
from pointshall.bootstrap import Services

YEAR = 365 * 24 * 3600


async def open_account(services: Services, msisdn: str = "+8613800138000") -> int:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> int:
        sub = subscribers.get_or_create(conn, msisdn, now)
        return ledger.open_account(conn, sub.id, "mobile", now)

    return await services.db.write(unit)


async def credit(
    services: Services, account_id: int, amount: int, key: str, expires_in: int = YEAR
) -> ledger.Posted:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> ledger.Posted:
        return ledger.credit(
            conn,
            account_id=account_id,
            amount=amount,
            kind="earn",
            source="test",
            key=key,
            reason_key="accrual",
            reason_args={},
            ref="test",
            now=now,
            expires_at=now + expires_in,
        )

    return await services.db.write(unit)


async def debit(services: Services, account_id: int, amount: int, key: str) -> ledger.Posted:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> ledger.Posted:
        return ledger.debit(
            conn,
            account_id=account_id,
            amount=amount,
            kind="redeem",
            source="test",
            key=key,
            reason_key="redeem",
            reason_args={},
            ref="test",
            now=now,
        )

    return await services.db.write(unit)


async def summary(services: Services, account_id: int) -> ledger.Summary:
    now = epoch(services.clock.now())
    return await services.db.read(lambda conn: ledger.summary(conn, account_id, now))


async def assert_ledger_ok(services: Services) -> None:
    report = await services.db.read(doctor.examine)
    assert report.ok, [str(d) for d in report.discrepancies]


async def test_credit_is_idempotent_by_key(services: Services) -> None:
    acct = await open_account(services)
    first = await credit(services, acct, 500, "k1")
    again = await credit(services, acct, 500, "k1")
    assert first.created and not again.created
    assert again.entry_id == first.entry_id
    assert (await summary(services, acct)).balance == 500
    await assert_ledger_ok(services)


async def test_reusing_a_key_for_another_amount_is_refused(services: Services) -> None:
    acct = await open_account(services)
    await credit(services, acct, 500, "k1")
    with pytest.raises(DuplicateEntry):
        await credit(services, acct, 400, "k1")
    assert (await summary(services, acct)).balance == 500


async def test_debit_takes_first_expiring_lot_first(services: Services) -> None:
    acct = await open_account(services)
    await credit(services, acct, 100, "late", expires_in=2 * YEAR)
    await credit(services, acct, 100, "soon", expires_in=YEAR)
    await debit(services, acct, 150, "spend")

    def lots(conn: Connection) -> list[tuple[int, int]]:
        return [
            (int(r.amount), int(r.remaining))
            for r in conn.execute(select(lot.c.amount, lot.c.remaining).order_by(lot.c.expires_at))
        ]

    assert await services.db.read(lots) == [(100, 0), (100, 50)]
    assert (await summary(services, acct)).balance == 50
    await assert_ledger_ok(services)


async def test_insufficient_points_changes_nothing(services: Services) -> None:
    acct = await open_account(services)
    await credit(services, acct, 100, "c")
    with pytest.raises(InsufficientPoints) as raised:
        await debit(services, acct, 101, "d")
    assert raised.value.available == 100 and raised.value.needed == 101
    assert (await summary(services, acct)).balance == 100

    def entries(conn: Connection) -> int:
        return len(conn.execute(select(entry.c.id)).all())

    assert await services.db.read(entries) == 1
    await assert_ledger_ok(services)


async def test_hold_reserves_points_until_released_or_captured(services: Services) -> None:
    acct = await open_account(services)
    await credit(services, acct, 300, "c")
    now = epoch(services.clock.now())

    def place(key: str, amount: int) -> int:
        async_unit = lambda conn: ledger.place_hold(  # noqa: E731
            conn, account_id=acct, amount=amount, key=key, now=now, expires_at=now + 900
        )
        return async_unit  # type: ignore[return-value]

    h1 = await services.db.write(place("h1", 200))
    assert await services.db.write(place("h1", 200)) == h1, "same key, same hold"
    with pytest.raises(InsufficientPoints):
        await services.db.write(place("h2", 101))
    s = await summary(services, acct)
    assert (s.balance, s.held, s.available) == (300, 200, 100)
    with pytest.raises(InsufficientPoints):
        await debit(services, acct, 101, "d")

    captured = await services.db.write(
        lambda conn: ledger.capture_hold(
            conn,
            h1,
            source="test",
            key="cap",
            reason_key="redeem",
            reason_args={},
            ref="t",
            now=now,
        )
    )
    assert captured is not None and captured.created
    assert await services.db.write(lambda conn: ledger.release_hold(conn, h1)) is False
    s = await summary(services, acct)
    assert (s.balance, s.held) == (100, 0)
    await assert_ledger_ok(services)


async def test_expiry_spares_held_points(services: Services, clock: ManualClock) -> None:
    acct = await open_account(services)
    await credit(services, acct, 100, "c", expires_in=60)
    now = epoch(clock.now())
    await services.db.write(
        lambda conn: ledger.place_hold(
            conn, account_id=acct, amount=70, key="h", now=now, expires_at=now + 900
        )
    )
    clock.advance(timedelta(seconds=120))
    later = epoch(clock.now())
    expired = await services.db.write(lambda conn: ledger.expire_due(conn, acct, later))
    assert expired == 30
    s = await summary(services, acct)
    assert (s.balance, s.held) == (70, 70)
    assert await services.db.write(lambda conn: ledger.expire_due(conn, acct, later)) == 0
    await assert_ledger_ok(services)


async def test_doctor_finds_a_tampered_balance(services: Services) -> None:
    acct = await open_account(services)
    await credit(services, acct, 100, "c")
    await assert_ledger_ok(services)
    await services.db.write(
        lambda conn: conn.execute(update(account).where(account.c.id == acct).values(balance=150))
    )
    report = await services.db.read(doctor.examine)
    assert not report.ok
    assert {d.check for d in report.discrepancies} == {"balance vs entries", "balance vs lots"}


async def test_concurrent_debits_never_overspend(services: Services) -> None:
    """100 concurrent debits of 10 against 500 points: exactly 50 succeed (§1, DESIGN §4)."""
    acct = await open_account(services)
    await credit(services, acct, 500, "c")
    results = await asyncio.gather(
        *(debit(services, acct, 10, f"d{i}") for i in range(100)), return_exceptions=True
    )
    ok = [r for r in results if isinstance(r, ledger.Posted)]
    refused = [r for r in results if isinstance(r, InsufficientPoints)]
    assert len(ok) == 50 and len(refused) == 50
    assert (await summary(services, acct)).balance == 0
    await assert_ledger_ok(services)


async def test_random_operations_keep_invariants(services: Services) -> None:
    """A seeded random walk of credits, debits, holds and expiries; doctor passes after each."""
    rng = random.Random(20261125)
    accounts = [await open_account(services, f"+86138001380{i:02d}") for i in range(3)]
    holds: list[int] = []
    for step in range(120):
        acct = rng.choice(accounts)
        now = epoch(services.clock.now())
        op = rng.choice(["credit", "debit", "hold", "release", "capture", "expire"])
        try:
            if op == "credit":
                await credit(services, acct, rng.randint(1, 300), f"c{step}", rng.randint(30, 600))
            elif op == "debit":
                await debit(services, acct, rng.randint(1, 300), f"d{step}")
            elif op == "hold":
                amount = rng.randint(1, 200)
                holds.append(
                    await services.db.write(
                        lambda conn, a=acct, n=amount, s=step, t=now: ledger.place_hold(
                            conn, account_id=a, amount=n, key=f"h{s}", now=t, expires_at=t + 60
                        )
                    )
                )
            elif op == "release" and holds:
                h = holds.pop(rng.randrange(len(holds)))
                await services.db.write(lambda conn, h=h: ledger.release_hold(conn, h))
            elif op == "capture" and holds:
                h = holds.pop(rng.randrange(len(holds)))
                await services.db.write(
                    lambda conn, h=h, s=step, t=now: ledger.capture_hold(
                        conn,
                        h,
                        source="t",
                        key=f"cap{s}",
                        reason_key="redeem",
                        reason_args={},
                        ref="t",
                        now=t,
                    )
                )
            elif op == "expire":
                await services.db.write(lambda conn, a=acct, t=now: ledger.expire_due(conn, a, t))
        except InsufficientPoints:
            pass
        if isinstance(services.clock, ManualClock):
            services.clock.advance(timedelta(seconds=rng.randint(0, 40)))
        if step % 20 == 19:
            await assert_ledger_ok(services)
    await assert_ledger_ok(services)


async def test_balance_of_expires_what_is_due_and_reads_in_one_statement(
    services: Services, clock: ManualClock
) -> None:
    """Seed §1 (a balance is real time) and issue 15 §2 (JF reads account, due lots and
    summary in one statement): what is due expires on the read; otherwise nothing is
    written and the figures are ``summary``'s."""
    aid = await open_account(services)
    await credit(services, aid, 300, "early", expires_in=3600)
    await credit(services, aid, 500, "late", expires_in=2 * 3600)
    await credit(services, aid, 200, "later", expires_in=YEAR)
    now = epoch(clock.now())

    def read(conn: Connection) -> tuple[tuple[int, ledger.Summary] | None, ledger.Summary]:
        sub = subscribers.find(conn, "+8613800138000")
        assert sub is not None
        return ledger.balance_of(conn, sub.id, now), ledger.summary(conn, aid, now)

    found, plain = await services.db.write(read)
    assert found == (aid, plain)
    assert plain == ledger.Summary(1000, 0, 300, now + 3600)

    clock.advance(timedelta(seconds=3601))
    now = epoch(clock.now())
    found, plain = await services.db.write(read)
    assert found == (aid, ledger.Summary(700, 0, 500, now - 3601 + 2 * 3600))
    assert plain == found[1]
    assert (await services.db.read(doctor.examine)).ok

    def nobody(conn: Connection) -> tuple[int, ledger.Summary] | None:
        sub = subscribers.get_or_create(conn, "+8613900139000", now)
        return ledger.balance_of(conn, sub.id, now)

    assert await services.db.write(nobody) is None
