"""JF (balance) and MX (history) — seed §1: points in real time, with their running detail."""

from __future__ import annotations

from core import ledger, segments
from core.errors import NoAccount
from core.ledger import EntryView
from handlers.commands import Balance, History
from handlers.context import Context
from handlers.i18n import local_date, short_date, yuan
from handlers.reply import Reply


def _account(ctx: Context) -> int:
    account_id = ledger.account_id_of(ctx.conn, ctx.subscriber.id)
    if account_id is None:
        raise NoAccount(ctx.subscriber.msisdn)
    return account_id


def balance(ctx: Context, _cmd: Balance) -> Reply:
    """Answer the available and held points and the next expiry."""
    account_id = _account(ctx)
    ledger.expire_due(ctx.conn, account_id, ctx.now)
    s = ledger.summary(ctx.conn, account_id, ctx.now)
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
    return ctx.t("reason_other")


LINE_WIDTH = {"zh": 44, "en": 76}
"""Longest history line; longer reasons are clipped so a page always fits its budget."""
HEAD_ROOM = {"zh": 20, "en": 45}
"""Characters kept for the page heading and the MORE hint."""


def page_size(lang: str, budget: int) -> int:
    """Entries per MX page: as many full-width lines as the segment budget holds."""
    enc: segments.Encoding = "UCS-2" if lang == "zh" else "GSM-7"
    return max(1, (segments.capacity(enc, budget) - HEAD_ROOM[lang]) // (LINE_WIDTH[lang] + 1))


def _clip(line: str, lang: str) -> str:
    width = LINE_WIDTH.get(lang, LINE_WIDTH["zh"])
    if len(line) <= width:
        return line
    mark = "…" if lang == "zh" else "..."
    return line[: width - len(mark)] + mark


def history(ctx: Context, cmd: History) -> Reply:
    """Answer one page of the journal, newest first."""
    account_id = _account(ctx)
    size = page_size(ctx.lang, ctx.policy.segment_budget)
    total = ledger.count_entries(ctx.conn, account_id)
    if total == 0:
        return Reply(ctx.t("history_empty"))
    pages = -(-total // size)
    if cmd.page > pages:
        return Reply(ctx.t("history_past_end", page=cmd.page, pages=pages))
    entries = ledger.history(ctx.conn, account_id, (cmd.page - 1) * size, size)
    lines = [ctx.t("history_head", page=cmd.page)]
    for e in entries:
        line = ctx.t(
            "history_line",
            date=short_date(e.created_at, ctx.policy.timezone),
            amount=e.amount,
            reason=reason(ctx, e),
        )
        lines.append(_clip(line, ctx.lang))
    more = None
    if cmd.page < pages:
        lines.append(ctx.t("more_hint"))
        more = f"MX {cmd.page + 1}"
    return Reply("\n".join(lines), more=more)
