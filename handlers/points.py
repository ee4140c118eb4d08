"""JF (balance) and MX (history) — seed §1: points in real time, with their running detail."""

from __future__ import annotations

from core.points import ledger
from core.points.errors import NoAccount
from core.points.ledger import EntryView
from handlers.commands import Balance, History
from handlers.context import Context
from handlers.i18n import local_date, short_date, yuan
from handlers.paging import listing, page_size, pages_of
from handlers.reply import Reply


def _account(ctx: Context) -> int:
    account_id = ledger.account_id_of(ctx.conn, ctx.subscriber.id)
    if account_id is None:
        raise NoAccount(ctx.subscriber.msisdn)
    return account_id


def balance(ctx: Context, _cmd: Balance) -> Reply:
    """Answer the available and held points and the next expiry."""
    found = ledger.balance_of(ctx.conn, ctx.subscriber.id, ctx.now)
    if found is None:
        raise NoAccount(ctx.subscriber.msisdn)
    s = found[1]
    expiry = ""
    if s.next_expiry_at is not None and s.next_expiry_points:
        expiry = ctx.t(
            "balance_expiry",
            points=s.next_expiry_points,
            date=local_date(s.next_expiry_at - 1, ctx.policy.timezone),
        )
    return Reply(ctx.t("balance", available=s.available, held=s.held, expiry=expiry))


def reason(ctx: Context, e: EntryView) -> str:
    if e.reason_key == "accrual":
        a = e.reason_args
        return ctx.t(
            "reason_accrual",
            period=a.get("period", ""),
            spend=yuan(int(a.get("spend", 0))),
            rate=a.get("rate", ""),
            reward=a.get("reward", 0),
        )
    if e.reason_key == "expire":
        return ctx.t("reason_expire")
    if e.reason_key in ("redeem", "refund"):
        a = e.reason_args
        name = a.get("en" if ctx.lang == "en" else "zh", "")
        return ctx.t(f"reason_{e.reason_key}", name=name, qty=a.get("qty", 1))
    return ctx.t("reason_other")


HISTORY_WIDTH = {"zh": 44, "en": 76}


def history(ctx: Context, cmd: History) -> Reply:
    """Answer one page of the journal, newest first."""
    account_id = _account(ctx)
    size = page_size(ctx, HISTORY_WIDTH)
    total = ledger.count_entries(ctx.conn, account_id)
    if total == 0:
        return Reply(ctx.t("history_empty"))
    pages = pages_of(total, size)
    if cmd.page > pages:
        return Reply(ctx.t("past_end", page=cmd.page, pages=pages))
    entries = ledger.history(ctx.conn, account_id, (cmd.page - 1) * size, size)
    lines = [
        ctx.t(
            "history_line",
            date=short_date(e.created_at, ctx.policy.timezone),
            amount=e.amount,
            reason=reason(ctx, e),
        )
        for e in entries
    ]
    return listing(
        ctx,
        head=ctx.t("history_head", page=cmd.page),
        lines=lines,
        width=HISTORY_WIDTH,
        page=cmd.page,
        pages=pages,
        more=f"MX {cmd.page + 1}",
    )
