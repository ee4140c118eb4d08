"""A key rotation (issue 13 §2): new secrets use the new root key, everything made under the
old one still verifies while the old key is kept, and nothing does once it is dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from core.backoffice import operator_staff
from core.merchants import merchants
from core.payments import saga
from core.platform import key_usage, keys
from core.platform.clock import ManualClock, epoch
from core.platform.codes import key_id
from core.platform.schema import orders, voucher
from core.subscribers import passwords, subscribers
from core.vouchers import verification
from core.vouchers.verification import Refused, Verified
from pointshall.bootstrap import Services, bootstrap
from tests.support.merchant_helpers import ALICE, STAFF_A, Bought, buy, merchant_mall
from tests.support.settings import ROOT_KEY, make_settings

K2 = keys.render((keys.new_key(2),)).strip()


@pytest.fixture
async def rotated(database_url: str, clock: ManualClock) -> AsyncIterator[Services]:
    """The same database after ``pointshall key rotate``: k1 (the tests' key) and a new k2."""
    built = await bootstrap(
        make_settings(database_url, secret_key=f"{ROOT_KEY}\n{K2}"), clock=clock, upgrade=False
    )
    try:
        yield built
    finally:
        await built.close()


async def only_k2(database_url: str, clock: ManualClock) -> Services:
    return await bootstrap(make_settings(database_url, secret_key=K2), clock=clock, upgrade=False)


def verify(services: Services, bought: Bought) -> object:
    def unit(conn: Connection) -> object:
        actor = merchants.staff_actor(conn, STAFF_A)
        now = epoch(services.clock.now())
        return verification.verify_by_password(
            conn, actor, bought.no, bought.password, now, keyring=services.keyring
        )

    return unit


def verify_qr(services: Services, bought: Bought) -> object:
    def unit(conn: Connection) -> object:
        actor = merchants.staff_actor(conn, STAFF_A)
        now = epoch(services.clock.now())
        return verification.verify_by_token(
            conn, actor, bought.token, now, keyring=services.keyring
        )

    return unit


async def password_hash(services: Services, no: str) -> str:
    return str(
        await services.db.read(
            lambda conn: conn.execute(
                select(voucher.c.password_hash)
                .join(orders, orders.c.id == voucher.c.order_id)
                .where(orders.c.no == no)
            ).scalar_one()
        )
    )


async def test_after_a_rotation_old_secrets_verify_and_new_ones_use_the_new_key(
    services: Services, rotated: Services, tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    terminal_keys = await merchant_mall(services, tmp_path)
    old_a, old_b = await buy(services), await buy(services)
    now = epoch(services.clock.now())

    def before(conn: Connection) -> str:
        who = subscribers.get_or_create(conn, ALICE, now, "zh")
        passwords.set_passwords(
            conn,
            subscriber_id=who.id,
            msisdn=ALICE,
            points_password="102938",
            second_password="564738",
            now=now,
            keyring=services.keyring,
        )
        return operator_staff.add(conn, services.keyring, "ops", "admin", by="t", now=now)[1]

    token = await services.db.write(before)
    link_token = saga.pay_token(services.keyring, old_a.no)
    assert key_id(await password_hash(services, old_a.no)) == "k1"

    # After the rotation: made under k1, still good under (k1, k2).
    assert isinstance(await rotated.db.write(verify(rotated, old_a)), Verified)
    assert isinstance(await rotated.db.write(verify_qr(rotated, old_b)), Verified)
    staff = await rotated.db.read(
        lambda conn: operator_staff.authenticate(conn, rotated.keyring, token)
    )
    assert staff is not None and staff.name == "ops"
    stored = await rotated.db.read(
        lambda conn: passwords.stored(conn, subscribers.find(conn, ALICE).id)  # type: ignore[union-attr]
    )
    assert stored is not None
    assert passwords.check_password(
        rotated.keyring, stored.points_password_hash, "points", ALICE, "102938"
    )
    assert saga.pay_token_ok(rotated.keyring, old_a.no, link_token)
    terminal = await rotated.db.read(lambda conn: merchants.find_terminal(conn, "T-A"))
    assert terminal is not None and terminal.key_id == "k1"
    assert (
        merchants.terminal_secret(rotated.keyring, "T-A", terminal.secret_version, terminal.key_id)
        == terminal_keys["T-A"]
    )

    # New secrets use k2; re-keying a terminal moves it to k2.
    fresh = await buy(rotated)
    assert key_id(await password_hash(rotated, fresh.no)) == "k2"
    assert isinstance(await rotated.db.write(verify(rotated, fresh)), Verified)
    rekeyed = await rotated.db.write(
        lambda conn: merchants.add_terminal(conn, "M1", "T-A", "t", now, rotated.keyring)
    )
    terminal = await rotated.db.read(lambda conn: merchants.find_terminal(conn, "T-A"))
    assert terminal is not None and terminal.key_id == "k2" and rekeyed != terminal_keys["T-A"]

    used = await rotated.db.read(
        lambda conn: key_usage.usage(conn, rotated.keyring.key_ids, epoch(clock.now()))
    )
    by = {(u.what, u.kid): u.count for u in used}
    assert ("live vouchers", "k1") not in by  # both old vouchers are used now
    assert by[("staff tokens", "k1")] == 1 and by[("points passwords", "k1")] == 1
    assert by[("terminals", "k1")] == 1 and by[("terminals", "k2")] == 1

    # Without k1 nothing made under it verifies: why a key is kept until its secrets expire.
    dropped = await only_k2(database_url, clock)
    try:
        late = await buy(services)  # made under k1 again (the old services)
        assert isinstance(await dropped.db.write(verify(dropped, late)), Refused)
        assert not saga.pay_token_ok(dropped.keyring, old_a.no, link_token)
        gone = await dropped.db.read(
            lambda conn: operator_staff.authenticate(conn, dropped.keyring, token)
        )
        assert gone is None
    finally:
        await dropped.close()
