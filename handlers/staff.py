"""YG: a merchant owner manages the verifier phones by SMS (§3.4.4)."""

from __future__ import annotations

from core.merchants import merchants
from core.merchants import texts as merchant_texts
from core.messaging import outbox, segments
from core.messaging.texts import short
from core.platform.phones import to_e164
from core.subscribers.subscribers import default_lang
from handlers.commands import Staff
from handlers.context import Context
from handlers.reply import Reply

MAX_LISTED = 8
"""At most this many phones are listed; fewer when they would not fit the budget."""


def staff(ctx: Context, cmd: Staff) -> Reply:
    """List, add or remove the verifier phones of the owner's merchant."""
    shop = merchants.owned_by(ctx.conn, ctx.subscriber.msisdn)
    if shop is None:
        return Reply(ctx.t("not_owner"))
    name = short(shop.name(ctx.lang), ctx.lang)
    if cmd.action == "list":
        phones = merchants.staff_phones(ctx.conn, shop.id)
        for n in range(min(len(phones), MAX_LISTED), 0, -1):
            shown = " ".join(phones[:n]) + (" ..." if len(phones) > n else "")
            text = ctx.t("yg_list", merchant=name, phones=shown)
            if segments.fits(text, ctx.policy.segment_budget):
                return Reply(text)
        return Reply(ctx.t("yg_list", merchant=name, phones="-"))
    phone = to_e164(cmd.phone, ctx.policy.region)
    by = ctx.subscriber.msisdn
    if cmd.action == "remove":
        if phone == by or not merchants.remove_staff(
            ctx.conn, shop.code, phone, by, ctx.now, by_kind="staff"
        ):
            return Reply(ctx.t("yg_not_found", phone=phone))
        return Reply(ctx.t("yg_removed", phone=phone))
    merchants.add_staff(ctx.conn, shop.code, phone, "verifier", by, ctx.now, by_kind="staff")
    lang = default_lang(phone, ctx.policy.home_lang)
    outbox.enqueue(
        ctx.conn,
        key=f"staff:{shop.code}:{phone}:{ctx.now}",
        recipient=phone,
        text=merchant_texts.notice(lang, "staff_added", merchant=short(shop.name(lang), lang)),
        now=ctx.now,
    )
    return Reply(ctx.t("yg_added", phone=phone, merchant=name))
