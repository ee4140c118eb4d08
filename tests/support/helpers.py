"""Small helpers shared by the database tests."""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, Table, func, select
from sqlalchemy.sql import Select

from core.merchants import merchants
from core.messaging.outbox import SEAL
from core.orders.payment import Paid
from core.platform.codes import Keyring
from core.platform.schema import outbox
from core.points.feed_import import ImportResult, import_feed
from handlers.hall import InboundMessage, Outcome
from pointshall.bootstrap import Services


def as_received(keyring: Keyring, text: str, sealed: str | None) -> str:
    """The whole of a message not yet sent (its secrets sealed), else the stored text."""
    if sealed is None:
        return text
    return str(json.loads(keyring.unseal(SEAL, sealed))["text"])


_HANDSET_LINE = re.compile(r"\[(\d+)\] SMS → \S+ \(\d+ part\(s\)\): (.*)")


def handset(services: Services) -> dict[int, str]:
    """What the console transport delivered (the tests' phone), by outbox id."""
    path = services.settings.console_handset
    if path is None or not path.exists():
        return {}
    messages: dict[int, str] = {}
    last: int | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        found = _HANDSET_LINE.fullmatch(line)
        if found:
            last = int(found.group(1))
            messages[last] = found.group(2)
        elif last is not None:
            messages[last] += "\n" + line
    return messages


def received(
    services: Services, query: Select[tuple[int, str, str | None]]
) -> Callable[[Connection], list[str]]:
    """A unit of work reading ``texts_of(…)`` as the recipients read them: the sealed whole
    of a message not yet sent, what the console transport delivered of one sent (its secrets
    are then no longer kept), else the stored text."""

    def read(conn: Connection) -> list[str]:
        rows = conn.execute(query).all()
        delivered = handset(services) if any(s is None for _, _, s in rows) else {}
        return [
            delivered.get(int(i), t) if s is None else as_received(services.keyring, t, s)
            for i, t, s in rows
        ]

    return read


def texts_of(*where: ColumnElement[bool]) -> Select[tuple[int, str, str | None]]:
    """``select(outbox.c.id, outbox.c.text, outbox.c.sealed)`` where ``where``, oldest first."""
    return select(outbox.c.id, outbox.c.text, outbox.c.sealed).where(*where).order_by(outbox.c.id)


HEADER = (
    "msisdn",
    "period",
    "spend_cents",
    "tenure_months",
    "reward_points",
    "account_type",
    "name",
)


def write_feed(
    path: Path, rows: Iterable[Sequence[object]], header: Sequence[str] = HEADER
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


async def accrue(
    services: Services, path: Path, period: str, *, strict: bool = False, chunk_rows: int = 5000
) -> ImportResult:
    return await import_feed(
        services.db,
        path,
        period,
        services.rules,
        services.clock,
        strict=strict,
        chunk_rows=chunk_rows,
    )


async def send(services: Services, sender: str, text: str, *, sid: str | None = None) -> Outcome:
    msg = InboundMessage(
        channel="test", external_id=sid or uuid.uuid4().hex, sender=sender, text=text
    )
    return await services.db.write(partial(services.hall.receive, msg=msg))


async def count(services: Services, table: Table) -> int:
    def q(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    return await services.db.read(q)


async def fund(
    services: Services, tmp: Path, points: dict[str, int], period: str = "2026-10"
) -> None:
    """Give each number exactly these points, through the real accrual path."""
    rows = [(msisdn, period, 0, 0, amount, "mobile", "") for msisdn, amount in points.items()]
    await accrue(services, write_feed(tmp / f"fund-{uuid.uuid4().hex}.csv", rows), period)


async def seed_catalog(services: Services) -> None:
    """A small catalogue: phone credit, a gift with little stock, two merchants' vouchers,
    an item in a running activity limited to one per person, one in an activity that ended."""
    from core.catalogue import editing as admin
    from core.catalogue.editing import ItemSpec
    from core.platform.clock import epoch

    now = epoch(services.clock.now())
    day = 86_400

    def unit(conn: Connection) -> None:
        admin.upsert_category(conn, "HF", "话费", "Phone credit", 1)
        admin.upsert_category(conn, "LP", "礼品", "Gifts", 2)
        admin.upsert_category(conn, "SJ", "商家券", "Merchant vouchers", 3)
        admin.upsert_brand(conn, "TH", "膳魔师", "Thermos")
        merchants.upsert(conn, "M1", "咖啡时光", "Coffee Time", now)
        merchants.upsert(conn, "M2", "星光影城", "Starlight Cinema", now)
        admin.upsert_activity(
            conn, "A1", "双十一特惠", "Singles Day", now - day, now + 10 * day, per_account_limit=1
        )
        admin.upsert_activity(
            conn, "A0", "国庆特惠", "National Day", now - 60 * day, now - 30 * day
        )
        admin.upsert_activity(conn, "A2", "元旦预告", "New Year", now + 30 * day, now + 40 * day)
        for spec in (
            ItemSpec(
                "1001", "50元话费", "50 yuan credit", "HF", "credit", 5000, face_value_cents=5000
            ),
            ItemSpec(
                "2001",
                "保温杯",
                "Vacuum flask",
                "LP",
                "physical",
                3000,
                brand="TH",
                stock=5,
                description_zh="不锈钢真空保温杯,500毫升。",
                description_en="Steel vacuum flask, 500 ml.",
            ),
            ItemSpec(
                "3001", "咖啡券", "Coffee voucher", "SJ", "voucher", 800, merchant="M1", stock=50
            ),
            ItemSpec("3002", "电影票", "Cinema ticket", "SJ", "voucher", 1500, merchant="M2"),
            ItemSpec(
                "4001",
                "特惠咖啡券",
                "Deal coffee",
                "SJ",
                "voucher",
                100,
                merchant="M1",
                activity="A1",
            ),
            ItemSpec(
                "4002",
                "国庆话费",
                "Holiday credit",
                "HF",
                "credit",
                100,
                face_value_cents=100,
                activity="A0",
            ),
        ):
            admin.upsert_item(conn, spec, now)

    await services.db.write(unit)


def redeem_paid(conn: Connection, services: Services, msisdn: str, code: str) -> Paid:
    """Redeem one of item ``code`` for ``msisdn`` and confirm it with its code, through the
    core, inside the caller's unit of work; the paid order."""
    from core.orders import redemption
    from core.platform.clock import epoch
    from core.subscribers.subscribers import get_or_create

    now = epoch(services.clock.now())
    policy = services.hall.policy.orders
    subscriber = get_or_create(conn, msisdn, now)
    pending = redemption.redeem(
        conn,
        subscriber=subscriber,
        code=code,
        qty=1,
        channel="test",
        key=f"test:{uuid.uuid4().hex}",
        now=now,
        policy=policy,
        keyring=services.keyring,
    )
    paid = redemption.confirm(
        conn,
        subscriber=subscriber,
        code=pending.code,
        now=now,
        policy=policy,
        keyring=services.keyring,
    )
    assert isinstance(paid, Paid), paid
    return paid
