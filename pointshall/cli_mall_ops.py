"""``pointshall message|review|order …``: the operator's side of the mall's after-sales
(§2.2.13 replies to messages, §2.2.17 review moderation, §2.2.15 logistics).

Each command is one unit of work calling a ``core`` service (``core.feedback.messages``,
``core.feedback.reviews``, ``core.orders.logistics``), so an admin API can call the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from sqlalchemy import Connection

from core.backoffice import duties
from core.feedback import messages, reviews
from core.orders import logistics
from core.platform.clock import epoch
from core.platform.errors import DomainError
from pointshall.bootstrap import Services
from pointshall.cli_support import err, out, run_with_services

message_app = typer.Typer(help="Messages left by subscribers (§2.2.13).", no_args_is_help=True)
review_app = typer.Typer(help="Goods reviews: moderation (§2.2.17).", no_args_is_help=True)
order_app = typer.Typer(help="Orders: shipping and delivery (§2.2.15).", no_args_is_help=True)

T = TypeVar("T")
By = Annotated[
    str, typer.Option("--by", help="The operator staff member doing it (their role is checked).")
]
Limit = Annotated[int, typer.Option(help="How many to list, newest first.")]


def _write(unit: Callable[[Connection, int], T]) -> T:
    """One unit of work against the configured database; domain errors exit 1."""

    async def job(services: Services) -> T:
        now = epoch(services.clock.now())
        return await services.db.write(lambda conn: unit(conn, now))

    try:
        return run_with_services(job)
    except (DomainError, ValueError) as exc:
        err.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None


def _when(at: int) -> str:
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")


@message_app.command("list")
def message_list(
    status: Annotated[str, typer.Option(help="open, replied or all")] = "open",
    limit: Limit = 50,
) -> None:
    """List messages with their replies."""
    wanted = None if status == "all" else status
    found = _write(lambda conn, _now: messages.staff_list(conn, wanted, limit))
    for msg in found:
        out.print(
            f"#{msg.id} {_when(msg.created_at)} {msg.msisdn} via {msg.channel} "
            f"[{msg.status}]: {msg.text}",
            markup=False,
        )
        for r in msg.replies:
            out.print(f"    ↳ {r.staff}: {r.text}", markup=False)
    if not found:
        out.print("no messages")


@message_app.command("reply")
def message_reply(message_id: int, text: str, by: By) -> None:
    """Reply to a message; the reply goes back to the chat or number it came from."""
    _write(
        lambda conn, now: messages.reply(
            conn,
            message_id=message_id,
            staff=duties.acting(conn, by, duties.MESSAGE_REPLY).name,
            text=text,
            now=now,
        )
    )
    out.print(f"replied to message #{message_id}")


@review_app.command("list")
def review_list(
    status: Annotated[str, typer.Option(help="visible, hidden or all")] = "all",
    limit: Limit = 50,
) -> None:
    """List reviews, newest first."""
    wanted = None if status == "all" else status
    found = _write(lambda conn, _now: reviews.staff_list(conn, wanted, limit))
    for r in found:
        out.print(
            f"#{r.id} item {r.item_code} {r.msisdn} {r.score}/5 [{r.status}]: {r.text}",
            markup=False,
        )
    if not found:
        out.print("no reviews")


def _visibility(review_id: int, status: str, by: str) -> None:
    changed = _write(
        lambda conn, now: reviews.set_visibility(
            conn, review_id, status, duties.acting(conn, by, duties.REVIEW_MODERATE).name, now
        )
    )
    if not changed:
        err.print(f"[red]refused:[/red] no review {review_id}")
        raise typer.Exit(1)
    out.print(f"review #{review_id} is {status}")


@review_app.command("hide")
def review_hide(review_id: int, by: By) -> None:
    """Hide a review from the item's list (moderation)."""
    _visibility(review_id, "hidden", by)


@review_app.command("show")
def review_show(review_id: int, by: By) -> None:
    """Show a hidden review again."""
    _visibility(review_id, "visible", by)


@order_app.command("ship")
def order_ship(
    no: str,
    carrier: Annotated[str, typer.Option(help="The carrier, e.g. SF Express.")],
    tracking: Annotated[str, typer.Option(help="The parcel's tracking number.")],
    by: By,
) -> None:
    """Mark a paid order shipped with its carrier and tracking number."""
    _write(
        lambda conn, now: logistics.ship(
            conn,
            no,
            carrier=carrier,
            tracking_no=tracking,
            by=duties.acting(conn, by, duties.ORDER_LOGISTICS).name,
            now=now,
        )
    )
    out.print(f"order {no} shipped: {carrier} {tracking}", markup=False)


@order_app.command("deliver")
def order_deliver(no: str, by: By) -> None:
    """Mark a shipped order delivered."""
    _write(
        lambda conn, now: logistics.deliver(
            conn, no, by=duties.acting(conn, by, duties.ORDER_LOGISTICS).name, now=now
        )
    )
    out.print(f"order {no} delivered")


def install(app: typer.Typer) -> None:
    app.add_typer(message_app, name="message")
    app.add_typer(review_app, name="review")
    app.add_typer(order_app, name="order")
