"""``pointshall merchant …``: admission, staff, terminals and voucher unlock (§3.5.5, §3.4.4)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy import Connection

from core.backoffice import decisions, duties
from core.catalogue import submissions
from core.catalogue.editing import ItemSpec
from core.merchants import admission, merchants
from core.platform.clock import epoch
from core.platform.errors import DomainError
from core.platform.phones import to_e164
from core.vouchers import verification
from pointshall import root_key
from pointshall.bootstrap import Services, bootstrap
from pointshall.config import Settings

merchant_app = typer.Typer(help="Merchants: admission, staff, terminals.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff phones of a merchant.", no_args_is_help=True)
terminal_app = typer.Typer(help="POS terminals of a merchant.", no_args_is_help=True)
merchant_app.add_typer(staff_app, name="staff")
merchant_app.add_typer(terminal_app, name="terminal")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

By = Annotated[
    str,
    typer.Option(
        "--by", help="The operator staff member doing it (their name; their role is checked)."
    ),
]
Reason = Annotated[str, typer.Option(help="Why (the applicant is told).")]


def _write(unit: Callable[[Services, Connection, int], T]) -> T:
    """Run one unit of work against the configured database; domain errors exit 1."""

    async def main() -> T:
        settings = Settings()
        services = await bootstrap(settings, demo_key=root_key.demo_fallback(settings))
        try:
            now = epoch(services.clock.now())
            return await services.db.write(lambda conn: unit(services, conn, now))
        finally:
            await services.close()

    try:
        return asyncio.run(main())
    except (DomainError, ValueError) as exc:
        err.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None


def _phone(raw: str) -> str:
    try:
        return to_e164(raw)
    except DomainError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@merchant_app.command()
def apply(
    code: Annotated[str, typer.Argument(help="The merchant code asked for, e.g. M9")],
    name_zh: Annotated[str, typer.Argument(help="Chinese name")],
    name_en: Annotated[str, typer.Argument(help="English name")],
    phone: Annotated[str, typer.Option(help="The applicant's phone (told by SMS).")],
) -> None:
    """File a merchant application."""
    applicant = _phone(phone)
    app = _write(
        lambda s, conn, now: admission.apply(
            conn, code=code, name_zh=name_zh, name_en=name_en, applicant=applicant, now=now
        )
    )
    out.print(f"application {app.id} submitted for {app.code}")


@merchant_app.command()
def review(
    application: Annotated[int, typer.Argument(help="Application number")],
    by: By,
    start: Annotated[bool, typer.Option(help="Only take it up for first review.")] = False,
    reason: Reason = "",
) -> None:
    """First review by a business admin or an admin: pass it on to final review (or --start it)."""
    decision = "start" if start else "pass"
    _write(
        lambda s, conn, now: decisions.first_review(
            conn,
            duties.acting(conn, by, duties.APPLICATION_FIRST_REVIEW),
            application,
            decision,
            reason=reason,
            now=now,
        )
    )
    if start:
        out.print(f"application {application} is in first review")
    else:
        out.print(f"application {application} passed first review; now in final review")


@merchant_app.command()
def approve(
    application: Annotated[int, typer.Argument(help="Application number")],
    by: By,
    reason: Reason = "",
) -> None:
    """Final review by an admin other than the first reviewer: approve; the merchant is
    created with the applicant as owner."""
    _write(
        lambda s, conn, now: decisions.final_review(
            conn,
            duties.acting(conn, by, duties.APPLICATION_FINAL_REVIEW),
            application,
            "approve",
            reason=reason,
            now=now,
        )
    )
    out.print(f"application {application} approved")


def _reject(conn: Connection, application: int, by: str, reason: str, now: int) -> None:
    if admission.find(conn, application).status == "final_review":
        reviewer = duties.acting(conn, by, duties.APPLICATION_FINAL_REVIEW)
        decisions.final_review(conn, reviewer, application, "reject", reason=reason, now=now)
    else:
        reviewer = duties.acting(conn, by, duties.APPLICATION_FIRST_REVIEW)
        decisions.first_review(conn, reviewer, application, "reject", reason=reason, now=now)


@merchant_app.command()
def reject(
    application: Annotated[int, typer.Argument(help="Application number")],
    by: By,
    reason: Reason,
) -> None:
    """Reject an application at either review (by the role that review needs)."""
    _write(lambda s, conn, now: _reject(conn, application, by, reason, now))
    out.print(f"application {application} rejected")


@staff_app.command("add")
def staff_add(
    code: Annotated[str, typer.Argument(help="Merchant code")],
    phone: Annotated[str, typer.Argument(help="Staff phone number")],
    by: By,
    role: Annotated[str, typer.Option(help="owner or verifier")] = "verifier",
) -> None:
    """Register a staff phone that may verify the merchant's vouchers."""
    msisdn = _phone(phone)
    _write(
        lambda s, conn, now: merchants.add_staff(
            conn, code, msisdn, role, duties.acting(conn, by, duties.MERCHANT_STAFF).name, now
        )
    )
    out.print(f"{msisdn} is now {role} of {code}")


@staff_app.command("remove")
def staff_remove(
    code: Annotated[str, typer.Argument(help="Merchant code")],
    phone: Annotated[str, typer.Argument(help="Staff phone number")],
    by: By,
) -> None:
    """Stop a staff phone from verifying."""
    msisdn = _phone(phone)
    removed = _write(
        lambda s, conn, now: merchants.remove_staff(
            conn, code, msisdn, duties.acting(conn, by, duties.MERCHANT_STAFF).name, now
        )
    )
    out.print(f"{msisdn} removed from {code}" if removed else f"{msisdn} was not staff of {code}")


@terminal_app.command("add")
def terminal_add(
    code: Annotated[str, typer.Argument(help="Merchant code")],
    terminal_id: Annotated[str, typer.Argument(help="Terminal id, e.g. T-0001")],
    by: By,
) -> None:
    """Register a POS terminal (or rotate its key); prints the HMAC key once."""
    key = _write(
        lambda s, conn, now: merchants.add_terminal(
            conn,
            code,
            terminal_id,
            duties.acting(conn, by, duties.MERCHANT_TERMINAL).name,
            now,
            s.keyring,
        )
    )
    out.print(f"terminal {terminal_id} of {code}; HMAC key (shown once):")
    out.print(key, markup=False, highlight=False)


@merchant_app.command()
def unlock(
    order: Annotated[str, typer.Argument(help="Order number of the locked voucher")],
    by: By,
) -> None:
    """Unlock a voucher locked by five wrong passwords."""
    _write(
        lambda s, conn, now: verification.unlock(
            conn, order, duties.acting(conn, by, duties.VOUCHER_UNLOCK).name, now
        )
    )
    out.print(f"voucher of order {order} unlocked")


goods_app = typer.Typer(
    help="Goods a merchant publishes, reviewed before listing.", no_args_is_help=True
)
merchant_app.add_typer(goods_app, name="goods")


@goods_app.command("submit")
def goods_submit(
    merchant: Annotated[str, typer.Argument(help="Merchant code")],
    code: Annotated[str, typer.Argument(help="Item code, e.g. 3101")],
    name_zh: Annotated[str, typer.Argument(help="Chinese name")],
    name_en: Annotated[str, typer.Argument(help="English name")],
    points: Annotated[int, typer.Argument(help="Points price")],
    by: Annotated[
        str, typer.Option("--by", help="The submitting phone: a staff phone of the merchant.")
    ],
    category: Annotated[
        str, typer.Option(help="Category code (`pointshall catalog list` shows them).")
    ],
    stock: Annotated[int | None, typer.Option(help="Stock (default unlimited)")] = None,
    days: Annotated[int, typer.Option(help="Voucher valid days")] = 30,
    description_zh: Annotated[str, typer.Option()] = "",
    description_en: Annotated[str, typer.Option()] = "",
) -> None:
    """Submit a bookable voucher item; it is listed once a business admin approves it."""
    spec = ItemSpec(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        category=category,
        kind="voucher",
        points=points,
        stock=stock,
        voucher_days=days,
        description_zh=description_zh,
        description_en=description_en,
    )
    phone = _phone(by)
    _write(lambda s, conn, now: submissions.submit(conn, merchant, spec, phone, now))
    out.print(f"item {code.upper()} submitted for review")


@goods_app.command("pending")
def goods_pending() -> None:
    """List goods waiting for review."""
    rows = _write(lambda s, conn, now: submissions.pending(conn))
    for code, name, merchant_id, points in rows:
        out.print(f"{code}  {name}  merchant #{merchant_id}  {points:,} points")
    if not rows:
        out.print("nothing waiting for review")


@goods_app.command("review")
def goods_review(
    code: Annotated[str, typer.Argument(help="Item code")],
    by: By,
    approve: Annotated[bool, typer.Option("--approve/--reject", help="List it, or refuse it.")],
    reason: Reason = "",
) -> None:
    """A business admin lists (--approve) or refuses (--reject) a submitted item."""
    if not approve and not reason:
        err.print("[red]--reject needs a --reason (the merchant is told)[/red]")
        raise typer.Exit(2)
    _write(
        lambda s, conn, now: decisions.review_goods(
            conn,
            duties.acting(conn, by, duties.GOODS_REVIEW),
            code,
            approve=approve,
            reason=reason,
            now=now,
        )
    )
    out.print(f"item {code.upper()} {'listed' if approve else 'refused'}")
