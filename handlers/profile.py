"""BZ, TD/START and EN/ZH: help, marketing opt-out, reply language."""

from __future__ import annotations

from core.subscribers import subscribers
from handlers.commands import BadArguments, Help, OptIn, OptOut, SetLanguage, Unknown
from handlers.context import Context
from handlers.paging import listing, page_size, pages_of
from handlers.reply import Reply

HELP_WIDTH = {"zh": 14, "en": 32}


def help_(ctx: Context, cmd: Help) -> Reply:
    """List every command, as many a page as the SMS budget holds; MORE for the rest."""
    entries = ctx.t("help_lines").split("\n")
    size = page_size(ctx, HELP_WIDTH)
    pages = pages_of(len(entries), size)
    page = cmd.page
    return listing(
        ctx,
        head=ctx.t("help_head", page=page, pages=pages),
        lines=entries[(page - 1) * size : page * size],
        width=HELP_WIDTH,
        page=page,
        pages=pages,
        more=f"BZ {page + 1}",
    )


def opt_out(ctx: Context, _cmd: OptOut) -> Reply:
    """Stop marketing messages; service messages still go out."""
    subscribers.set_opted_out(ctx.conn, ctx.subscriber.id, True)
    return Reply(ctx.t("opted_out"))


def opt_in(ctx: Context, _cmd: OptIn) -> Reply:
    """Resume marketing messages."""
    subscribers.set_opted_out(ctx.conn, ctx.subscriber.id, False)
    return Reply(ctx.t("opted_in"))


def set_language(ctx: Context, cmd: SetLanguage) -> Reply:
    """Answer in this language from now on."""
    subscribers.set_lang(ctx.conn, ctx.subscriber.id, cmd.lang)
    ctx.lang = cmd.lang
    return Reply(ctx.t("lang_set"))


def unknown(ctx: Context, _cmd: Unknown) -> Reply:
    """Point at BZ."""
    return Reply(ctx.t("unknown"))


def bad_arguments(ctx: Context, cmd: BadArguments) -> Reply:
    """Show the usage of the keyword that was used."""
    return Reply(ctx.t(f"usage_{cmd.keyword}"))
