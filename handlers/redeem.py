"""DH, the confirm code, DD, QX, CF, DZ: redeeming over SMS (§2.2.11–2.2.15, §3.6.2)."""

from __future__ import annotations

from core.messaging import outbox, segments
from core.orders import cancellation, checkout, orders, redemption
from core.orders.checkout import CheckoutPaid
from core.orders.orders import OrderView
from core.orders.payment import Paid
from core.orders.redemption import CodeDead, WrongCode
from core.payments import saga as payments
from core.recharge import topups
from core.subscribers import addresses
from core.vouchers import vouchers
from handlers.commands import CancelOrder, Confirm, Orders, Redeem, Resend, SetAddress
from handlers.context import Context
from handlers.i18n import local_date, yuan
from handlers.paging import counted, fit, listing, page_size, pages_of
from handlers.reply import Reply

ORDER_WIDTH = {"zh": 30, "en": 56}


def redeem(ctx: Context, cmd: Redeem) -> Reply:
    """Hold the points and reserve the stock; answer with the confirm code (§2.2.12)."""
    if cmd.method != "points":
        return _redeem_for_money(ctx, cmd)
    pending = redemption.redeem(
        ctx.conn,
        subscriber=ctx.subscriber,
        code=cmd.code,
        qty=cmd.qty,
        channel=ctx.channel,
        key=f"redeem:{ctx.request_key}",
        now=ctx.now,
        policy=ctx.policy.orders,
        keyring=ctx.keyring,
    )
    return Reply(
        fit(
            lambda name: ctx.t(
                "dh_pending",
                no=pending.no,
                name=name,
                qty=pending.qty,
                points=pending.points,
                code=pending.code,
            ),
            pending.item.name(ctx.lang),
            ctx.policy.segment_budget,
        ),
        secrets=(pending.code,),
    )


def _redeem_for_money(ctx: Context, cmd: Redeem) -> Reply:
    """Make the order, hold its points (if any), answer with the pay link (§3.5.6)."""
    pending = payments.redeem_for_money(
        ctx.conn,
        subscriber=ctx.subscriber,
        code=cmd.code,
        qty=cmd.qty,
        method=cmd.method,
        channel=ctx.channel,
        key=f"redeem:{ctx.request_key}",
        now=ctx.now,
        policy=ctx.policy.orders,
        keyring=ctx.keyring,
    )
    price = ctx.t("price_money", yuan=yuan(pending.cash_cents), method=ctx.t(f"pm_{cmd.method}"))
    if pending.points:
        price = ctx.t("price_points_cash", points=pending.points, yuan=yuan(pending.cash_cents))
    link = payments.pay_link(ctx.policy.pay_base_url, ctx.keyring, pending.no)
    token = payments.pay_token(ctx.keyring, pending.no)  # kept out of what is recorded
    name = pending.item.name(ctx.lang)
    minutes = ctx.policy.orders.pay_seconds // 60

    def answer(key: str, title: str) -> str:
        return ctx.t(
            key, no=pending.no, name=title, qty=pending.qty, price=price, minutes=minutes, link=link
        )

    budget = ctx.policy.segment_budget
    if segments.fits(answer("dh_pay", ""), budget):
        return Reply(fit(lambda title: answer("dh_pay", title), name, budget), secrets=(token,))
    # A long public URL leaves no room: the link travels alone, whole, in its own SMS
    # (a cut link cannot be followed), keyed by the order so a retry sends it once.
    outbox.enqueue(
        ctx.conn,
        key=f"pay-link:{pending.no}",
        recipient=ctx.subscriber.msisdn,
        text=link,
        now=ctx.now,
        secrets=(token,),
        keyring=ctx.keyring,
    )
    return Reply(fit(lambda title: answer("dh_pay_apart", title), name, budget))


def confirm(ctx: Context, cmd: Confirm) -> Reply:
    """Check the confirm code; pay and fulfil the waiting order, or every order of the
    waiting chat checkout when the code texted back is that checkout's (§2.2.12)."""
    outcome: redemption.ConfirmOutcome | checkout.CheckoutOutcome
    opened = redemption.order_for_code(ctx.conn, ctx.subscriber.id, cmd.code, ctx.now, ctx.keyring)
    no: str | None = None
    checkout_no: str | None = None
    if opened is not None:
        no, checkout_no = opened.no, opened.checkout_no
    else:  # a wrong code counts against the newest order waiting
        waiting = orders.pending_order(ctx.conn, ctx.subscriber.id)
        no = waiting.no if waiting is not None else None
        checkout_no = checkout.of_order(ctx.conn, no) if no is not None else None
    if checkout_no is not None:
        outcome = checkout.confirm(
            ctx.conn,
            subscriber=ctx.subscriber,
            code=cmd.code,
            now=ctx.now,
            policy=ctx.policy.orders,
            keyring=ctx.keyring,
            checkout_no=checkout_no,
        )
    else:
        outcome = redemption.confirm(
            ctx.conn,
            subscriber=ctx.subscriber,
            code=cmd.code,
            now=ctx.now,
            policy=ctx.policy.orders,
            keyring=ctx.keyring,
            no=no,
        )
    if isinstance(outcome, WrongCode):
        return Reply(ctx.t("wrong_code", left=outcome.tries_left))
    if isinstance(outcome, CodeDead):
        return Reply(ctx.t(f"code_{outcome.reason}", no=outcome.no))
    if isinstance(outcome, CheckoutPaid):
        return _checkout_paid(ctx, outcome)
    return _paid(ctx, outcome)


def _checkout_paid(ctx: Context, outcome: CheckoutPaid) -> Reply:
    points = sum(p.order.points for p in outcome.paid)
    nos = " ".join(p.order.no for p in outcome.paid)
    return Reply(
        fit(
            lambda listed: ctx.t("paid_checkout", nos=listed, points=points),
            nos,
            ctx.policy.segment_budget,
        )
    )


def _paid(ctx: Context, paid: Paid) -> Reply:
    order = paid.order
    name = order.item_name(ctx.lang)
    if order.kind == "voucher":
        assert paid.voucher_expires_at is not None
        date = local_date(paid.voucher_expires_at - 1, ctx.policy.timezone)
        return Reply(ctx.t("paid_voucher", no=order.no, date=date))
    if order.kind == "physical":
        return Reply(
            fit(
                lambda address: ctx.t("paid_physical", no=order.no, address=address),
                order.address or "",
                ctx.policy.segment_budget,
            )
        )
    return Reply(ctx.t("paid_credit", no=order.no, name=name))


def _price(ctx: Context, order: OrderView) -> str:
    """What the order costs, by its payment method (§3.5.6): points, points + cash, or money."""
    if order.pay_method == "points":
        return ctx.t("price_points", points=order.points)
    if order.pay_method == "points_cash":
        return ctx.t("price_points_cash", points=order.points, yuan=yuan(order.cash_cents))
    method = ctx.t(f"pm_{order.pay_method}")
    return ctx.t("price_money", yuan=yuan(order.cash_cents), method=method)


def _status(ctx: Context, order: OrderView, topup: str | None = None) -> str:
    """The order's status; a paid phone-credit order says how its top-up is going."""
    if topup is not None and order.status == "paid":
        return ctx.t(f"topup_{topup}")
    return ctx.t(f"status_{order.status}")


def _topup_line(ctx: Context, order: OrderView) -> str:
    found = topups.by_order(ctx.conn, order.no) if order.kind == "credit" else None
    if found is None:
        return ""
    state = ctx.t(f"topup_{found.status}")
    return ctx.t("dd_topup", yuan=yuan(found.amount_cents), state=state)


def my_orders(ctx: Context, cmd: Orders) -> Reply:
    """List my orders, or show one with its delivery status (§2.2.15)."""
    if cmd.no is not None:
        order = orders.find(ctx.conn, ctx.subscriber.id, cmd.no)
        logistics = _topup_line(ctx, order)
        if order.carrier and order.tracking_no:
            logistics = ctx.t("dd_logistics", carrier=order.carrier, tracking=order.tracking_no)
        return Reply(
            fit(
                lambda name: ctx.t(
                    "dd_detail",
                    no=order.no,
                    name=name,
                    qty=order.qty,
                    price=_price(ctx, order),
                    status=_status(ctx, order),
                    logistics=logistics,
                ).rstrip(),
                order.item_name(ctx.lang),
                ctx.policy.segment_budget,
            )
        )
    size = page_size(ctx, ORDER_WIDTH)
    found, total = counted(
        lambda offset, limit: orders.recent(ctx.conn, ctx.subscriber.id, offset, limit),
        cmd.page,
        size,
    )
    if total == 0:
        return Reply(ctx.t("dd_empty"))
    pages = pages_of(total, size)
    topup_of = topups.states_of(ctx.conn, (o.id for o in found if o.kind == "credit"))
    lines = [
        ctx.t(
            "dd_line",
            no=o.no,
            name=o.item_name(ctx.lang),
            status=_status(ctx, o, topup_of.get(o.id)),
        )
        for o in found
    ]
    return listing(
        ctx,
        head=ctx.t("dd_head", page=cmd.page, pages=pages),
        lines=lines,
        width=ORDER_WIDTH,
        page=cmd.page,
        pages=pages,
        more=f"DD {cmd.page + 1}",
    )


def cancel(ctx: Context, cmd: CancelOrder) -> Reply:
    """Cancel a waiting order, or refund a paid one not yet used or shipped."""
    order = orders.find(ctx.conn, ctx.subscriber.id, cmd.no)
    outcome = cancellation.cancel(ctx.conn, subscriber=ctx.subscriber, no=cmd.no, now=ctx.now)
    if outcome == "refunded":
        return Reply(ctx.t("refunded", no=order.no, points=order.points))
    return Reply(ctx.t("cancelled", no=order.no))


def resend(ctx: Context, cmd: Resend) -> Reply:
    """Send a new voucher password; the old one stops working."""
    vouchers.resend(
        ctx.conn,
        subscriber=ctx.subscriber,
        no=cmd.no,
        now=ctx.now,
        keyring=ctx.keyring,
        policy=ctx.policy.orders,
    )
    return Reply(ctx.t("resent", no=cmd.no))


def set_address(ctx: Context, cmd: SetAddress) -> Reply:
    """Save the delivery address used for physical goods (§2.2.20)."""
    addresses.add_default(ctx.conn, ctx.subscriber.id, cmd.text, ctx.now)
    return Reply(
        fit(lambda a: ctx.t("address_set", address=a), cmd.text, ctx.policy.segment_budget)
    )
