"""The buying side of the chat (§2.2.10–20): cart, checkout, payment code, orders, reviews,
messages, addresses.

Buttons (``bot.shop_screens`` lists their payloads) and typed answers to a prompt
("type your address") are each one unit of work, claimed by ``(telegram, update_id)``
like every chat update, so a redelivered update has no second effect. A prompt is
remembered in the subscriber's ``conversation`` row (kinds ``tg_*``), as is the
checkout being prepared (address and note). Only a chat bound to a number may
buy; a guest may read an item's reviews.

The 6-digit code typed while a checkout waits pays it (``core.orders.checkout.confirm``);
each voucher then goes to the chat through the outbox (channel ``telegram``): its QR
code as a photo, drawn when sent, with the order number and password as caption.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from bot import shop_screens as ss
from bot.chat import CHANNEL, ChatMessage, guest_lang
from bot.screens import Button, Screen
from bot.texts import ct
from core.feedback import messages, reviews
from core.feedback.errors import NotReviewable
from core.messaging import outbox
from core.messaging.texts import day
from core.orders import cancellation, cart, checkout, orders, redemption
from core.orders.redemption import CodeDead, WrongCode
from core.platform import otp
from core.platform.clock import epoch
from core.subscribers import addresses, chat_binding, conversation
from core.subscribers.subscribers import Subscriber
from handlers import boundary
from handlers.boundary import Arrival, Worded
from handlers.hall import Hall
from handlers.keywords import HELP, OPT_IN, OPT_OUT

KINDS = frozenset({"a", "k", "o", "r", "m", "z", "co"})
SLASH = {"/cart": "k", "/orders": "o 1", "/messages": "m", "/addresses": "z"}
PROMPT_SECONDS = 15 * 60
NO_SKIP = "-"
_CODE = re.compile(r"[0-9]{6}")
PRIORITY = frozenset(w.upper() for w in (*HELP, *OPT_OUT, *OPT_IN))
"""Words that keep their meaning even while a prompt waits for free text."""
MAX_NOTE = 200


@dataclass(frozen=True)
class ShopAnswer:
    screen: Screen
    edit: bool = False
    """Replace the message whose button was pressed, instead of sending a new one."""
    duplicate: bool = False


SHOP_REPLIES: Worded[ShopAnswer] = Worded(
    lambda text, _lang: ShopAnswer(Screen(text)),
    lambda answer: answer.screen.text,
    lambda first, _lang: ShopAnswer(Screen(first), duplicate=True),
)
"""The buying side's answers: a refusal is a new message worded by the text channels' table."""


class ShopDesk:
    def __init__(self, hall: Hall) -> None:
        self.hall = hall

    # ------------------------------------------------------------------ entry points

    def press(
        self, conn: Connection, *, update_id: int, chat_id: int, payload: str, code: str | None
    ) -> ShopAnswer:
        """Answer a pressed button of the buying side, once."""
        now = epoch(self.hall.clock.now())
        who = chat_binding.bound_subscriber(conn, chat_id)
        lang = who.lang if who else guest_lang(code, self.hall.policy.home_lang)
        kind, _, rest = payload.partition(" ")
        if who is None:
            return self._claimed(
                conn,
                lang,
                chat_id,
                update_id,
                payload,
                now,
                lambda: self._guest(conn, kind, rest, lang),
            )
        return self._claimed(
            conn,
            lang,
            chat_id,
            update_id,
            payload,
            now,
            lambda: self._press(conn, who, update_id, kind, rest, now),
        )

    @staticmethod
    def _guest(conn: Connection, kind: str, rest: str, lang: str) -> ShopAnswer:
        """A guest may read an item's reviews; anything else asks to log in first."""
        if kind == "r" and rest and " " not in rest:
            found = ss.reviews_screen(conn, rest, lang)
            return ShopAnswer(found or Screen(ct(lang, "stale")), edit=True)
        return ShopAnswer(Screen(ct(lang, "login_first")))

    def typed(self, conn: Connection, msg: ChatMessage) -> ShopAnswer | None:
        """Answer a typed text that belongs to the buying side; None for anything else.

        Ours: ``/cart``, ``/orders``, ``/messages``, ``/addresses``; the answer to a
        prompt; a 6-digit code while a checkout waits for it.
        """
        if msg.contact is not None:
            return None
        who = chat_binding.bound_subscriber(conn, msg.chat_id)
        if who is None:
            return None
        now = epoch(self.hall.clock.now())
        text = msg.text.strip()
        if text in SLASH:
            kind, _, rest = SLASH[text].partition(" ")
            return self._claimed(
                conn,
                who.lang,
                msg.chat_id,
                msg.update_id,
                text,
                now,
                lambda: self._press(conn, who, msg.update_id, kind, rest, now),
            )
        if text.startswith("/"):
            return None
        state = conversation.current(conn, who.id, now)
        if state is not None and text.upper() in PRIORITY:
            conversation.forget(conn, who.id)  # help and opt-out words end any prompt
            return None
        if state is not None and state.kind.startswith("tg_") and state.kind != "tg_co":
            return self._claimed(
                conn,
                who.lang,
                msg.chat_id,
                msg.update_id,
                text,
                now,
                lambda: self._prompted(conn, who, msg.chat_id, state, text, now),
            )
        if _CODE.fullmatch(text):
            checkout_no = self._for_checkout(conn, who, text, now)
            if checkout_no is not None:
                return self._claimed(
                    conn,
                    who.lang,
                    msg.chat_id,
                    msg.update_id,
                    text,
                    now,
                    lambda: self._pay(conn, who, msg.chat_id, text, checkout_no, now),
                )
        return None

    def _for_checkout(self, conn: Connection, who: Subscriber, code: str, now: int) -> str | None:
        """The checkout a typed code is for: the one it opens, or (a wrong code) the newest
        waiting; None when it opens an order by SMS ``DH`` (the hall confirms that one)."""
        opened = redemption.order_for_code(conn, who.id, code, now, self.hall.keyring)
        if opened is None:
            return checkout.pending_checkout(conn, who.id)
        return opened.checkout_no

    # ------------------------------------------------------------------ one unit of work

    def _claimed(
        self,
        conn: Connection,
        lang: str,
        chat_id: int,
        update_id: int,
        text: str,
        now: int,
        answer: Callable[[], ShopAnswer],
    ) -> ShopAnswer:
        return boundary.receive(
            conn,
            Arrival(CHANNEL, str(update_id), f"tg:{chat_id}", text),
            now=now,
            lang=lambda: lang,
            replies=SHOP_REPLIES,
            command=answer,
        ).answer

    # ------------------------------------------------------------------ buttons

    def _press(
        self, conn: Connection, who: Subscriber, update_id: int, kind: str, rest: str, now: int
    ) -> ShopAnswer:
        lang = who.lang
        max_qty = self.hall.policy.orders.max_qty
        if kind == "a":
            qty = cart.add(conn, who.id, rest, now, max_qty)
            name = next(line.name(lang) for line in cart.lines(conn, who.id) if line.code == rest)
            rows = [[Button(ct(lang, "btn_cart"), "k"), Button(ct(lang, "btn_continue"), "h")]]
            return ShopAnswer(Screen(ct(lang, "added", name=name, qty=qty), rows))
        if kind == "k":
            return ShopAnswer(self._cart(conn, who, rest, now), edit=True)
        if kind == "co":
            return self._checkout(conn, who, rest, now, update_id)
        if kind == "o":
            return ShopAnswer(self._orders(conn, who, rest, now), edit=True)
        if kind == "r":
            return self._review(conn, who, rest, now)
        if kind == "m":
            if rest == "n":
                return self._prompt(conn, who, "tg_msg", "", "prompt_message", now)
            return ShopAnswer(ss.messages_screen(conn, who.id, lang), edit=True)
        if kind == "z":
            return self._addresses(conn, who, rest, now)
        return ShopAnswer(Screen(ct(lang, "stale")))

    def _cart(self, conn: Connection, who: Subscriber, rest: str, now: int) -> Screen:
        op, _, code = rest.partition(" ")
        max_qty = self.hall.policy.orders.max_qty
        notice = ""
        if op == "+":
            cart.change(conn, who.id, code, +1, max_qty)
        elif op == "-":
            cart.change(conn, who.id, code, -1, max_qty)
        elif op == "d":
            cart.remove(conn, who.id, code)
        elif op == "f":
            names = {line.code: line.name(who.lang) for line in cart.lines(conn, who.id)}
            if cart.move_to_favourites(conn, who.id, code, now):
                notice = ct(who.lang, "moved_fav", name=names[code])
        return ss.cart_screen(conn, who.id, who.lang, notice)

    def _checkout(
        self, conn: Connection, who: Subscriber, rest: str, now: int, update_id: int
    ) -> ShopAnswer:
        lang = who.lang
        if rest == "":
            if ss.needs_address(conn, who.id):
                return ShopAnswer(ss.pick_address(conn, who.id, lang), edit=True)
            return self._draft(conn, who, 0, "", now)
        if rest.isdigit():
            if int(rest):
                addresses.get(conn, who.id, int(rest))
            return self._draft(conn, who, int(rest), "", now)
        draft = self._draft_of(conn, who, now)
        if draft is None:  # the draft was forgotten (another command came between)
            return self._checkout(conn, who, "", now, update_id)
        address_id, note = draft
        if rest == "n":
            return self._prompt(conn, who, "tg_note", str(address_id), "prompt_note", now)
        if rest == "s":
            return self._submit(conn, who, address_id, note, now, update_id)
        return ShopAnswer(Screen(ct(lang, "stale")))

    def _draft(
        self,
        conn: Connection,
        who: Subscriber,
        address_id: int,
        note: str,
        now: int,
        edit: bool = True,
    ) -> ShopAnswer:
        state = conversation.State("tg_co", f"{address_id}|{note}")
        conversation.remember(conn, who.id, state, now + PROMPT_SECONDS)
        return ShopAnswer(ss.confirm_screen(conn, who.id, who.lang, address_id, note), edit=edit)

    @staticmethod
    def _draft_of(conn: Connection, who: Subscriber, now: int) -> tuple[int, str] | None:
        state = conversation.current(conn, who.id, now)
        if state is None or state.kind != "tg_co":
            return None
        address_id, _, note = state.payload.partition("|")
        return int(address_id or 0), note

    def _submit(
        self,
        conn: Connection,
        who: Subscriber,
        address_id: int,
        note: str,
        now: int,
        update_id: int,
    ) -> ShopAnswer:
        policy = self.hall.policy.orders
        done = checkout.submit(
            conn,
            subscriber=who,
            address_id=address_id or None,
            note=note,
            channel=CHANNEL,
            key=f"checkout:{CHANNEL}:{update_id}",
            now=now,
            policy=policy,
            keyring=self.hall.keyring,
        )
        conversation.forget(conn, who.id)
        text = ss.submitted_text(
            who.lang, done.points, who.msisdn, otp.ORDER_CONFIRM.lifetime_seconds // 60
        )
        return ShopAnswer(Screen(text))

    def _orders(self, conn: Connection, who: Subscriber, rest: str, now: int) -> Screen:
        op, _, no = rest.partition(" ")
        tz = self.hall.policy.timezone
        if op == "d":
            return ss.order_screen(conn, orders.find(conn, who.id, no), who.lang, tz)
        if op == "x":
            status = cancellation.cancel(conn, subscriber=who, no=no, now=now)
            notice = ct(who.lang, "order_cancelled", no=no, status=ss.status_word(who.lang, status))
            return ss.order_screen(conn, orders.find(conn, who.id, no), who.lang, tz, notice)
        page = int(op) if op.isdigit() and 0 < int(op) < 10_000 else 1
        return ss.orders_screen(conn, who.id, who.lang, page)

    def _review(self, conn: Connection, who: Subscriber, rest: str, now: int) -> ShopAnswer:
        op, _, args = rest.partition(" ")
        if op == "w":
            order = orders.find(conn, who.id, args)
            if order.status not in reviews.REVIEWABLE:
                raise NotReviewable(order.no, order.status)
            return ShopAnswer(ss.score_screen(order, who.lang), edit=True)
        if op == "s":
            no, _, score = args.partition(" ")
            orders.find(conn, who.id, no)
            return self._prompt(conn, who, "tg_rev", f"{no} {score}", "prompt_review", now)
        found = ss.reviews_screen(conn, rest, who.lang)
        return ShopAnswer(found or Screen(ct(who.lang, "stale")), edit=found is not None)

    def _addresses(self, conn: Connection, who: Subscriber, rest: str, now: int) -> ShopAnswer:
        op, _, arg = rest.partition(" ")
        notice = ""
        if op in ("n", "c"):
            return self._prompt(conn, who, "tg_addr", op, "prompt_address", now)
        if op == "s" and arg.isdigit():
            addresses.set_default(conn, who.id, int(arg))
        elif op == "d" and arg.isdigit():
            addresses.remove(conn, who.id, int(arg))
            notice = ct(who.lang, "address_removed")
        return ShopAnswer(ss.addresses_screen(conn, who.id, who.lang, notice), edit=True)

    @staticmethod
    def _prompt(
        conn: Connection, who: Subscriber, kind: str, payload: str, key: str, now: int
    ) -> ShopAnswer:
        conversation.remember(conn, who.id, conversation.State(kind, payload), now + PROMPT_SECONDS)
        return ShopAnswer(Screen(ct(who.lang, key)))

    # ------------------------------------------------------------------ typed answers

    def _prompted(
        self,
        conn: Connection,
        who: Subscriber,
        chat_id: int,
        state: conversation.State,
        text: str,
        now: int,
    ) -> ShopAnswer:
        lang = who.lang
        if state.kind == "tg_note":
            return self._draft(conn, who, int(state.payload or 0), text[:MAX_NOTE], now, False)
        if state.kind == "tg_addr":
            added = addresses.add(conn, who.id, text, now)
            if state.payload == "c":
                return self._draft(conn, who, added.id, "", now, False)
            conversation.forget(conn, who.id)
            notice = ct(lang, "address_saved")
            return ShopAnswer(ss.addresses_screen(conn, who.id, lang, notice))
        if state.kind == "tg_msg":
            message_id = messages.leave(
                conn,
                subscriber_id=who.id,
                channel=CHANNEL,
                reply_to=str(chat_id),
                text=text,
                now=now,
            )
            conversation.forget(conn, who.id)
            notice = ct(lang, "message_saved", id=message_id)
            return ShopAnswer(ss.messages_screen(conn, who.id, lang, notice))
        if state.kind == "tg_rev":
            no, _, score = state.payload.partition(" ")
            reviews.add(
                conn,
                subscriber_id=who.id,
                no=no,
                score=int(score) if score.isdigit() else 0,
                text="" if text == NO_SKIP else text,
                now=now,
            )
            conversation.forget(conn, who.id)
            order = orders.find(conn, who.id, no)
            notice = ct(lang, "review_saved")
            tz = self.hall.policy.timezone
            return ShopAnswer(ss.order_screen(conn, order, lang, tz, notice))
        conversation.forget(conn, who.id)
        return ShopAnswer(Screen(ct(lang, "stale")))

    def _pay(
        self, conn: Connection, who: Subscriber, chat_id: int, code: str, checkout_no: str, now: int
    ) -> ShopAnswer:
        """§2.2.12: the code sent by SMS, typed in the chat, pays the waiting checkout."""
        lang = who.lang
        policy = self.hall.policy.orders
        outcome = checkout.confirm(
            conn,
            subscriber=who,
            code=code,
            now=now,
            policy=policy,
            keyring=self.hall.keyring,
            checkout_no=checkout_no,
        )
        if isinstance(outcome, WrongCode):
            return ShopAnswer(Screen(ct(lang, "co_wrong", left=outcome.tries_left)))
        if isinstance(outcome, CodeDead):
            return ShopAnswer(Screen(ct(lang, "co_dead")))
        keyring = self.hall.keyring
        for paid in outcome.paid:
            if paid.voucher_token is None or paid.voucher_password is None:
                continue
            order = paid.order
            caption = ct(
                lang,
                "voucher_caption",
                item=order.item_name(lang),
                no=order.no,
                password=paid.voucher_password,
                date=day((paid.voucher_expires_at or now) - 1, policy.timezone),
            )
            outbox.enqueue(
                conn,
                key=f"tg-voucher:{order.no}:{keyring.digest('qr', paid.voucher_token)[:16]}",
                recipient=str(chat_id),
                text=caption,
                now=now,
                channel=CHANNEL,
                attachment=f"qr:{paid.voucher_token}",
                secrets=(paid.voucher_password,),
                keyring=keyring,
            )
        nos = ", ".join(p.order.no for p in outcome.paid)
        points = sum(p.order.points for p in outcome.paid)
        rows = [[Button(ct(lang, "btn_orders"), "o 1"), Button(ct(lang, "btn_continue"), "h")]]
        return ShopAnswer(Screen(ct(lang, "co_paid", nos=nos, points=points), rows))
