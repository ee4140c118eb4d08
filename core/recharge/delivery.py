"""Delivering phone credit (issue 16 §2): the steps that call the recharge provider.

Provider calls happen between units of work, never inside one, and every submission of a
top-up carries its one key (``topup:{order no}``). ``deliver`` takes one top-up a step
further by what the provider says; ``deliver_due`` (the ``recharge`` job) does it for
every top-up that is due; ``callback`` applies what a signed callback reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

from core.platform.db import Database
from core.recharge import topups
from core.recharge.errors import RechargeNoAnswer, RechargeRefused
from core.recharge.gateway import FAILED, Recharge, RechargeGateway
from core.recharge.topups import RechargePolicy, TopupView

log = logging.getLogger(__name__)
DEFAULT_BATCH = 100


@dataclass(frozen=True)
class RechargeContext:
    """What delivery needs besides the database: built once by the composition root."""

    db: Database
    gateway: RechargeGateway
    policy: RechargePolicy = field(default_factory=RechargePolicy)


async def deliver(ctx: RechargeContext, t: TopupView, now: int) -> TopupView:
    """Take the top-up ``t`` (as read) one step: submit a ``requested`` one, ask about an
    ``unknown`` or ``submitted`` one; record the answer, or the lack of one. A stalled or
    final top-up is returned as it is. ``now`` is UTC epoch seconds. Provider failures
    are recorded, never raised."""
    record = ctx.db.write
    if t.status == topups.REQUESTED:
        try:
            answer = await ctx.gateway.submit(
                key=t.key, msisdn=t.msisdn, amount_cents=t.amount_cents
            )
        except RechargeRefused as exc:  # a definite no: the number will not be credited
            answer = Recharge("", t.key, t.msisdn, t.amount_cents, FAILED, exc.code)
        except RechargeNoAnswer as exc:
            log.warning("top-up %s: %s", t.order_no, exc)
            return await record(
                partial(
                    topups.record_no_answer,
                    topup_id=t.id,
                    expected=t.status,
                    error=exc,
                    now=now,
                    policy=ctx.policy,
                )
            )
        return await record(
            partial(topups.record_answer, topup_id=t.id, answer=answer, now=now, policy=ctx.policy)
        )
    if t.status in (topups.UNKNOWN, topups.SUBMITTED):
        try:
            found = await ctx.gateway.query(t.key)
        except RechargeNoAnswer as exc:
            log.warning("top-up %s: %s", t.order_no, exc)
            return await record(
                partial(
                    topups.record_no_answer,
                    topup_id=t.id,
                    expected=t.status,
                    error=exc,
                    now=now,
                    policy=ctx.policy,
                )
            )
        if found is None:
            return await record(
                partial(topups.record_not_found, topup_id=t.id, expected=t.status, now=now)
            )
        return await record(
            partial(topups.record_answer, topup_id=t.id, answer=found, now=now, policy=ctx.policy)
        )
    return t


async def deliver_due(ctx: RechargeContext, now: int, batch: int = DEFAULT_BATCH) -> int:
    """Submit every due ``requested`` top-up and ask about every due ``unknown`` or
    ``submitted`` one (the ``recharge`` job). Returns how many changed status; running it
    again at the same ``now`` finds nothing due."""
    moved, after = 0, 0
    while True:
        found = await ctx.db.read(partial(topups.due, now=now, after_id=after, limit=batch))
        for t in found:
            done = await deliver(ctx, t, now)
            moved += done.status != t.status
        if len(found) < batch:
            return moved
        after = found[-1].id


async def deliver_now(ctx: RechargeContext, no: str, by: str, now: int) -> TopupView:
    """Staff member ``by`` retries the top-up of order ``no`` (``topups.retry``) and it is
    submitted at once. Raises ``UnknownTopup`` or ``TopupFinished``."""
    t = await ctx.db.write(partial(topups.retry, no=no, by=by, now=now))
    return await deliver(ctx, t, now)


async def callback(ctx: RechargeContext, answer: Recharge, now: int) -> TopupView | None:
    """Apply a verified callback's ``answer``; None when no top-up has its key. A
    duplicate, or one arriving after the job already learnt the outcome, changes nothing."""
    no = answer.key.removeprefix("topup:")
    t = await ctx.db.read(partial(topups.by_order, no=no))
    if t is None or t.key != answer.key:
        return None
    return await ctx.db.write(
        partial(topups.record_answer, topup_id=t.id, answer=answer, now=now, policy=ctx.policy)
    )
