"""Demo data for the merchant console: staff phones of the demo coffee chain, a voucher
used at it and the month's statement, all made through the real core services."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from core.merchants import merchants
from core.orders import redemption
from core.orders.payment import Paid
from core.platform.clock import epoch
from core.settlement import settlement
from core.subscribers.subscribers import get_or_create
from core.vouchers import verification
from pointshall.bootstrap import Services

DEMO_MERCHANT = "COFFEE"
DEMO_OWNER = "+8613500135000"
DEMO_VERIFIER = "+8613500135008"
DEMO_CUSTOMER = "+8613900139000"  # 李娜; +8613800138000 keeps its 4,200 points
DEMO_ITEM = "3001"
RATE_CENTS_PER_1000 = 250


def _staffed(conn: Connection) -> bool:
    shop = merchants.find_merchant(conn, DEMO_MERCHANT)
    return DEMO_OWNER in merchants.staff_phones(conn, shop.id)


def _staff_and_a_used_voucher(conn: Connection, services: Services, now: int) -> None:
    merchants.add_staff(conn, DEMO_MERCHANT, DEMO_OWNER, "owner", "demo", now)
    merchants.add_staff(conn, DEMO_MERCHANT, DEMO_VERIFIER, "verifier", "demo", now)
    settlement.set_rate(conn, DEMO_MERCHANT, RATE_CENTS_PER_1000, "demo", now)
    policy = services.hall.policy.orders
    customer = get_or_create(conn, DEMO_CUSTOMER, now)
    pending = redemption.redeem(
        conn,
        subscriber=customer,
        code=DEMO_ITEM,
        qty=1,
        channel="demo",
        key=f"demo:{uuid.uuid4().hex}",
        now=now,
        policy=policy,
        keyring=services.keyring,
    )
    paid = redemption.confirm(
        conn,
        subscriber=customer,
        code=pending.code,
        now=now,
        policy=policy,
        keyring=services.keyring,
    )
    assert isinstance(paid, Paid) and paid.voucher_password is not None
    actor = merchants.staff_actor(conn, DEMO_VERIFIER)
    verification.verify_by_password(
        conn, actor, paid.order.no, paid.voucher_password, now, keyring=services.keyring
    )


async def seed_console(services: Services) -> None:
    """Give the demo coffee chain an owner and a verifier, one used voucher and a draft
    statement for this month; does nothing the second time."""
    if await services.db.read(_staffed):
        return
    now = epoch(services.clock.now())
    await services.db.write(lambda conn: _staff_and_a_used_voucher(conn, services, now))
    await settlement.settle(
        services.db,
        period=None,
        now=now,
        tz=ZoneInfo(services.settings.timezone),
        by="demo",
        merchant_code=DEMO_MERCHANT,
        early=True,
    )
