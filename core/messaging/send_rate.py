"""One outbound rate for the whole deployment: send slots shared through the database.

Issue 15 §4: with several replicas draining one PostgreSQL outbox, a provider's rate
(Twilio's messages per second for a sender, Telegram's ~30 a second per bot) is the
deployment's, not each process's: configuring 100/s means 100/s in all. Each rate is one
row, ``send_rate(name, next_slot_us)``: the next free send slot in microseconds since the
epoch. A replica reserves ``n`` slots with one statement (virtual scheduling, as GCRA):

    UPDATE send_rate
       SET next_slot_us = max(next_slot_us, :now + :lead) + :n * :spacing
     WHERE name = :name AND next_slot_us <= :now + :horizon
    RETURNING next_slot_us

and gets the slots ``start, start + spacing, …`` (``start`` = the returned value minus
``n · spacing``). The row lock makes the reservations of all replicas one sequence: on
PostgreSQL a concurrent UPDATE of the row waits for the first to commit and then works on
the row as that one left it (READ COMMITTED re-reads the newest version), on SQLite the
one writer serialises them. So no two sends of the deployment are given slots closer than
``spacing``. The ``horizon`` keeps a replica from reserving (and claiming rows for) more
than about half a second ahead.

**Why at most the rate in any one-second window.** A send starts in ``[slot, slot +
late)`` or not at all: a sender that wakes too late (a busy event loop) gives its slot up
and reserves another. With ``N = floor(rate)`` per window and
``spacing = (1 + slack) / N``, the sends that start inside any window ``[t, t + 1)`` have
slots inside ``(t - late, t + 1)``, an open interval ``1 + late`` long, which holds at
most ``N`` slots ``spacing`` apart as long as ``late ≤ slack``. We take ``late = slack /
2``: the other half is left for the way from our call to the provider's door, which is
where the provider counts. The cost is the margin itself: sends go out evenly spaced at
``N / (1 + slack)`` a second (0.971 of the rate with the default 30 ms), never in bursts.

Time is wall-clock time (``WallTimer.time``): every replica must keep its clock in step
with the others (NTP; an offset between two hosts counts against ``slack``). Tests run
several limiters on one virtual timer.
"""

from __future__ import annotations

import asyncio
import bisect
import math
from dataclasses import dataclass
from functools import partial

from sqlalchemy import BigInteger, Connection, case, literal, select, update

from core.messaging.ratelimit import WallTimer
from core.platform import metrics
from core.platform.db import Database
from core.platform.schema import send_rate
from core.platform.sql import insert_ignoring

US = 1_000_000
"""Microseconds in a second: slots are kept as integers."""
SLACK = 0.03
"""Seconds of margin per window (the default of ``POINTSHALL_OUTBOX_SLACK``)."""
LEAD = 0.1
"""Seconds from a reservation to its first slot when the rate is idle: time to claim."""
HORIZON = 0.5
"""Seconds ahead of now beyond which a replica does not reserve."""
MIN_SLEEP = 1e-6


def spacing(rate: float, slack: float) -> float:
    """Seconds between two consecutive slots of a rate of ``rate`` a second.

    ``N = max(1, floor(rate))`` sends per one-second window, spread over ``1 + slack``
    seconds, and never faster than ``rate`` in the long run (a rate below 1 a second
    spaces its sends ``1 / rate`` apart).
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    if not 0 <= slack < 1:
        raise ValueError("slack is a fraction of a second, 0 <= slack < 1")
    return max(1.0 / rate, (1.0 + slack) / max(1, math.floor(rate)))


@dataclass(frozen=True)
class Reservation:
    """``count`` slots from ``first_us``, ``spacing_us`` apart; or none, and when to ask again."""

    first_us: int
    count: int
    spacing_us: int
    retry_at_us: int | None = None

    def slots(self) -> list[float]:
        """The slots as epoch seconds."""
        return [(self.first_us + i * self.spacing_us) / US for i in range(self.count)]


def reserve(
    conn: Connection,
    *,
    name: str,
    count: int,
    spacing_us: int,
    now_us: int,
    lead_us: int,
    horizon_us: int,
) -> Reservation:
    """Reserve ``count`` consecutive send slots of the shared rate ``name``.

    Times are microseconds since the epoch. The first slot is no earlier than
    ``now_us + lead_us`` and no earlier than the rate's next free slot; nothing is
    reserved when that next free slot is more than ``horizon_us`` ahead of ``now_us``
    (the answer then says when to ask again). The rate's row is made on first use.
    One statement in the usual case; atomic under concurrent callers (module docstring).
    """
    if count < 1:
        raise ValueError("reserve at least one slot")
    earliest = literal(now_us + lead_us, BigInteger)
    start = case((send_rate.c.next_slot_us > earliest, send_rate.c.next_slot_us), else_=earliest)
    statement = (
        update(send_rate)
        .where(send_rate.c.name == name, send_rate.c.next_slot_us <= now_us + horizon_us)
        .values(next_slot_us=start + count * spacing_us)
        .returning(send_rate.c.next_slot_us)
    )
    current: int | None = None
    for _ in range(3):
        end = conn.execute(statement).scalar_one_or_none()
        if end is not None:
            return Reservation(int(end) - count * spacing_us, count, spacing_us)
        current = conn.execute(
            select(send_rate.c.next_slot_us).where(send_rate.c.name == name)
        ).scalar_one_or_none()
        if current is None:
            conn.execute(insert_ignoring(conn, send_rate, "name").values(name=name, next_slot_us=0))
        elif current > now_us + horizon_us:
            break
        # else another replica made the row between our UPDATE and SELECT: try again
    retry = now_us if current is None else max(now_us, int(current) - horizon_us)
    return Reservation(0, 0, spacing_us, retry_at_us=retry)


class SharedRateLimiter:
    """A ``Pacer`` whose slots come from the shared rate ``name`` (one per provider or bot).

    ``acquire`` reserves slots in the database (one round trip for a batch) and keeps them
    in order; ``admit`` waits for the earliest and lets the send start if it is not more
    than ``late`` past it, else gives it up (counted in ``pointshall_send_slots_missed``)
    and waits for another. Slots ``acquire`` took but no claimed row needed (``refund``)
    stay here for the next messages until they pass.
    """

    def __init__(
        self,
        db: Database,
        name: str,
        rate: float,
        timer: WallTimer,
        *,
        slack: float = SLACK,
        lead: float = LEAD,
        horizon: float = HORIZON,
    ) -> None:
        self.name = name
        self.rate = rate
        self.per_window = max(1, math.floor(rate))
        self.spacing = spacing(rate, slack)
        self.late = slack / 2
        self._db = db
        self._timer = timer
        self._lead_us = round(lead * US)
        self._horizon_us = round(max(horizon, self.spacing) * US)
        self._spacing_us = math.ceil(round(self.spacing * US, 3))  # never below the spacing
        self._slots: list[float] = []
        self._owed = 0
        self._reserving = asyncio.Lock()
        self._admitting = asyncio.Lock()

    def _drop_missed(self, now: float) -> None:
        missed = 0
        while self._slots and self._slots[0] + self.late <= now:
            self._slots.pop(0)
            missed += 1
        if missed:
            metrics.SEND_SLOTS_MISSED.labels(self.name).inc(missed)

    async def _reserve(self, count: int) -> None:
        """Add ``count`` slots from the database, waiting while the rate is booked ahead."""
        async with self._reserving:
            while True:
                now = self._timer.time()
                got = await self._db.write(
                    partial(
                        reserve,
                        name=self.name,
                        count=count,
                        spacing_us=self._spacing_us,
                        now_us=round(now * US),
                        lead_us=self._lead_us,
                        horizon_us=self._horizon_us,
                    )
                )
                if got.count:
                    for slot in got.slots():
                        bisect.insort(self._slots, slot)
                    return
                assert got.retry_at_us is not None
                await self._timer.sleep(max(got.retry_at_us / US - now, MIN_SLEEP))

    async def acquire(self, most: int = 1, least: int = 1) -> int:
        """Reserve slots until ``least`` are spare (not promised); promise up to ``most``."""
        need = max(1, min(least, most))
        self._drop_missed(self._timer.time())
        spare = len(self._slots) - self._owed
        if spare < need:
            await self._reserve(need - spare)
            spare = len(self._slots) - self._owed
        take = max(0, min(most, spare))
        self._owed += take
        return take

    async def admit(self) -> None:
        """Wait for the earliest slot; return when a send may start (call it at once)."""
        async with self._admitting:
            while True:
                now = self._timer.time()
                self._drop_missed(now)
                if not self._slots:
                    await self._reserve(1)
                    continue
                slot = self._slots[0]
                if now < slot:
                    await self._timer.sleep(max(slot - now, MIN_SLEEP))
                    continue
                self._slots.pop(0)
                self._owed = max(0, self._owed - 1)
                return

    def refund(self, count: int) -> None:
        """``count`` promised slots will not be used by a message: they become spare."""
        self._owed = max(0, self._owed - count)
