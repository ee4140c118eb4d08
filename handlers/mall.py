"""HD, SP, SS, XQ: activities, the goods list, search and item detail over SMS (§2.2)."""

from __future__ import annotations

from core.catalogue import catalogue
from core.catalogue import content as mall_content
from core.catalogue.catalogue import ItemView, Sort, When
from core.catalogue.errors import UnknownItem
from core.feedback import reviews
from handlers.commands import Activities, Announcements, Categories, Detail, ListItems, Search
from handlers.context import Context
from handlers.i18n import local_date, short_date, yuan
from handlers.paging import counted, fit, listing, page_size, pages_of
from handlers.reply import Reply

ITEM_WIDTH = {"zh": 26, "en": 46}
ACTIVITY_WIDTH = {"zh": 28, "en": 56}
WHEN_WORD = {"ongoing": "", "upcoming": "Y", "past": "G", "all": "A"}
SORT_WORD = {"sales": "XL", "views": "RQ", "newest": "XP", "points": "JF", "points_desc": "JFD"}


def activities(ctx: Context, cmd: Activities) -> Reply:
    """List promotions running now, coming, past or all (§2.2.14)."""
    when: When = cmd.when  # type: ignore[assignment]
    size = page_size(ctx, ACTIVITY_WIDTH)
    found, total = counted(
        lambda offset, limit: catalogue.activities(
            ctx.conn, when, now=ctx.now, offset=offset, limit=limit
        ),
        cmd.page,
        size,
    )
    if total == 0:
        return Reply(ctx.t(f"hd_empty_{when}"))
    pages = pages_of(total, size)
    tz = ctx.policy.timezone
    lines = [
        ctx.t(
            f"hd_line_{a.state(ctx.now)}",
            code=a.code,
            title=a.title(ctx.lang),
            start=short_date(a.starts_at, tz),
            end=short_date(a.ends_at - 1, tz),
        )
        for a in found
    ]
    more = " ".join(w for w in ("HD", WHEN_WORD[when], str(cmd.page + 1)) if w)
    return listing(
        ctx,
        head=ctx.t(f"hd_head_{when}", page=cmd.page, pages=pages),
        lines=lines,
        width=ACTIVITY_WIDTH,
        page=cmd.page,
        pages=pages,
        more=more,
    )


CATEGORY_WIDTH = {"zh": 14, "en": 30}
ANNOUNCEMENT_WIDTH = {"zh": 24, "en": 48}


def categories(ctx: Context, cmd: Categories) -> Reply:
    """List the category codes ``SP`` takes, with their names (§2.2.2)."""
    found = catalogue.categories(ctx.conn)
    if not found:
        return Reply(ctx.t("fl_empty"))
    size = page_size(ctx, CATEGORY_WIDTH)
    pages = pages_of(len(found), size)
    page = cmd.page
    lines = [
        ctx.t("fl_line", code=c.code, name=c.name(ctx.lang))
        for c in found[(page - 1) * size : page * size]
    ]
    return listing(
        ctx,
        head=ctx.t("fl_head", page=page, pages=pages),
        lines=lines,
        width=CATEGORY_WIDTH,
        page=page,
        pages=pages,
        more=f"FL {page + 1}",
        hint=ctx.t("fl_hint"),
    )


def announcements(ctx: Context, cmd: Announcements) -> Reply:
    """The mall's announcements, or one in full (§2.2.4)."""
    if cmd.announcement_id is not None:
        one = mall_content.find_announcement(ctx.conn, cmd.announcement_id)
        if one is None or one.published_at > ctx.now:
            return Reply(ctx.t("gg_unknown", id=cmd.announcement_id))
        date = local_date(one.published_at, ctx.policy.timezone)
        title = one.title(ctx.lang)
        return Reply(
            fit(
                lambda body: ctx.t("gg_one", title=title, date=date, body=body),
                one.body(ctx.lang),
                ctx.policy.segment_budget,
            )
        )
    size = page_size(ctx, ANNOUNCEMENT_WIDTH)
    found, total = counted(
        lambda offset, limit: mall_content.announcements_page(ctx.conn, ctx.now, offset, limit),
        cmd.page,
        size,
    )
    if total == 0:
        return Reply(ctx.t("gg_empty"))
    pages = pages_of(total, size)
    return listing(
        ctx,
        head=ctx.t("gg_head", page=cmd.page, pages=pages),
        lines=[ctx.t("gg_line", id=a.id, title=a.title(ctx.lang)) for a in found],
        width=ANNOUNCEMENT_WIDTH,
        page=cmd.page,
        pages=pages,
        more=f"GG P{cmd.page + 1}",
        hint=ctx.t("gg_hint"),
    )


def _item_line(ctx: Context, it: ItemView) -> str:
    stock = ctx.t("sp_stock", left=it.stock) if it.stock is not None and it.stock <= 10 else ""
    return ctx.t("sp_line", code=it.code, name=it.name(ctx.lang), points=it.points, stock=stock)


def list_items(ctx: Context, cmd: ListItems) -> Reply:
    """List goods on sale, by category and brand, sorted (§2.2.2, §2.2.7)."""
    size = page_size(ctx, ITEM_WIDTH)
    sort: Sort = cmd.sort  # type: ignore[assignment]
    found, total = counted(
        lambda offset, limit: catalogue.list_items(
            ctx.conn,
            now=ctx.now,
            category_code=cmd.category,
            brand_code=cmd.brand,
            sort=sort,
            offset=offset,
            limit=limit,
        ),
        cmd.page,
        size,
    )
    if total == 0:
        return Reply(ctx.t("sp_empty"))
    pages = pages_of(total, size)
    words = ["SP", cmd.category or "ALL", SORT_WORD[cmd.sort]]
    if cmd.brand:
        words.append(f"PP{cmd.brand}")
    return listing(
        ctx,
        head=ctx.t("sp_head", page=cmd.page, pages=pages),
        lines=[_item_line(ctx, it) for it in found],
        width=ITEM_WIDTH,
        page=cmd.page,
        pages=pages,
        more=" ".join([*words, str(cmd.page + 1)]),
        hint=ctx.t("sp_hint"),
    )


def search(ctx: Context, cmd: Search) -> Reply:
    """Find goods by name or keyword (§2.2.6)."""
    size = page_size(ctx, ITEM_WIDTH)
    found, total = counted(
        lambda offset, limit: catalogue.search(
            ctx.conn, cmd.keyword, now=ctx.now, offset=offset, limit=limit
        ),
        cmd.page,
        size,
    )
    if total == 0:
        return Reply(
            fit(lambda k: ctx.t("ss_empty", keyword=k), cmd.keyword, ctx.policy.segment_budget)
        )
    pages = pages_of(total, size)
    return listing(
        ctx,
        head=ctx.t("ss_head", keyword=cmd.keyword[:12], page=cmd.page, pages=pages),
        lines=[_item_line(ctx, it) for it in found],
        width=ITEM_WIDTH,
        page=cmd.page,
        pages=pages,
        more=f"SS {cmd.keyword} {cmd.page + 1}",
        hint=ctx.t("sp_hint"),
    )


def detail(ctx: Context, cmd: Detail) -> Reply:
    """Show one item in full and count the view (§2.2.9)."""
    it = catalogue.find_item(ctx.conn, cmd.code)
    if it is None:
        raise UnknownItem(cmd.code)
    catalogue.count_view(ctx.conn, it.id)
    cash = ctx.t("xq_cash", yuan=yuan(it.cash_cents)) if it.cash_cents else ""
    stock = ctx.t("xq_stock", left=it.stock) if it.stock is not None else ""
    merchant_name = it.merchant_name(ctx.lang)
    merchant = ctx.t("xq_merchant", merchant=merchant_name) if merchant_name else ""
    if it.activity_id is not None:
        act = catalogue.find_activity(ctx.conn, it.activity_id)
        if act is not None:
            ends = local_date(act.ends_at - 1, ctx.policy.timezone)
            merchant += f"[{act.title(ctx.lang)} {ends}] "
    rated = reviews.rating(ctx.conn, it.id)
    if rated.count:
        merchant += ctx.t("xq_rating", average=rated.average(), count=rated.count)

    def make(description: str) -> str:
        return ctx.t(
            "xq",
            code=it.code,
            name=it.name(ctx.lang),
            points=it.points,
            cash=cash,
            stock=stock,
            merchant=merchant,
            description=f"{description} " if description else "",
        )

    return Reply(fit(make, it.description(ctx.lang).strip(), ctx.policy.segment_budget))
