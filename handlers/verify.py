"""YZ order pwd (and the bare reply ``order pwd``): merchant staff verify a voucher (§3.6.2)."""

from __future__ import annotations

from core.merchants import merchants
from core.vouchers import verification
from core.vouchers.verification import Refused
from handlers.commands import Verify
from handlers.context import Context
from handlers.errors import reply_for
from handlers.paging import fit
from handlers.reply import Reply


def verify(ctx: Context, cmd: Verify) -> Reply:
    """Verify the voucher for the sender's merchant; say valid/served or why not."""
    actor = merchants.staff_actor(ctx.conn, ctx.subscriber.msisdn)
    outcome = verification.verify_by_password(
        ctx.conn,
        actor,
        cmd.no,
        cmd.password,
        ctx.now,
        keyring=ctx.keyring,
        tz=ctx.policy.timezone,
    )
    if isinstance(outcome, Refused):
        # Returned, not raised: the audit row and the wrong-password count must stay.
        return Reply(reply_for(outcome.error, ctx.lang))
    found = outcome.voucher
    return Reply(
        fit(
            lambda name: ctx.t("yz_ok", no=found.no, name=name, qty=found.qty),
            found.item_name(ctx.lang),
            ctx.policy.segment_budget,
        )
    )
