"""``pointshall catalog …``: import items, add categories, brands, merchants, activities."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Connection

from core.catalogue import editing, listing
from core.catalogue.item_file import CatalogFileError, parse_moment
from core.catalogue.item_import import CatalogImportResult, import_catalog
from core.merchants import merchants
from core.platform.clock import epoch
from core.points.feed import BadRow
from pointshall.bootstrap import Services
from pointshall.cli_support import err, out, run_with_services

catalog_app = typer.Typer(
    help="The catalogue: items, categories, brands, merchants, activities.", no_args_is_help=True
)
category_app = typer.Typer(help="Goods categories.", no_args_is_help=True)
brand_app = typer.Typer(help="Brands.", no_args_is_help=True)
merchant_app = typer.Typer(help="Partner merchants.", no_args_is_help=True)
activity_app = typer.Typer(help="Activities (promotions).", no_args_is_help=True)
catalog_app.add_typer(category_app, name="category")
catalog_app.add_typer(brand_app, name="brand")
catalog_app.add_typer(merchant_app, name="merchant")
catalog_app.add_typer(activity_app, name="activity")

Code = Annotated[str, typer.Argument(help="Code (letters, digits, '-'), stored upper case.")]
NameZh = Annotated[str, typer.Argument(help="Chinese name.")]
NameEn = Annotated[str, typer.Argument(help="English name.")]


def _zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.settings.timezone)


def _now(services: Services) -> int:
    return epoch(services.clock.now())


@catalog_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Catalogue CSV.")],
) -> None:
    """Upsert items from a CSV by code; bad rows are reported with their line numbers."""

    def bad(row: BadRow) -> None:
        err.print(f"[yellow]{row}[/yellow]", markup=True, highlight=False)

    async def job(services: Services) -> CatalogImportResult:
        with Progress(
            TextColumn("catalogue"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not sys.stderr.isatty(),
        ) as progress:
            task = progress.add_task("import", total=path.stat().st_size)
            return await import_catalog(
                services.db,
                path,
                services.clock,
                _zone(services),
                on_bad=bad,
                on_progress=lambda done, _total: progress.update(task, completed=done),
            )

    try:
        result = run_with_services(job)
    except CatalogFileError as exc:
        err.print(f"[red]catalogue refused:[/red] {exc}")
        raise typer.Exit(1) from None
    out.print(f"{result.rows_ok} items imported, {result.rows_bad} bad")


def _upper(code: str) -> str:
    return code.strip().upper()


@category_app.command("add")
def category_add(
    code: Code,
    name_zh: NameZh,
    name_en: NameEn,
    sort: Annotated[int, typer.Option(help="Position in lists (smaller first).")] = 0,
) -> None:
    """Add or rename a category."""

    async def job(services: Services) -> int:
        return await services.db.write(
            lambda conn: editing.upsert_category(conn, _upper(code), name_zh, name_en, sort)
        )

    run_with_services(job)
    out.print(f"category {_upper(code)} saved")


@brand_app.command("add")
def brand_add(code: Code, name_zh: NameZh, name_en: NameEn) -> None:
    """Add or rename a brand."""

    async def job(services: Services) -> int:
        return await services.db.write(
            lambda conn: editing.upsert_brand(conn, _upper(code), name_zh, name_en)
        )

    run_with_services(job)
    out.print(f"brand {_upper(code)} saved")


@merchant_app.command("add")
def merchant_add(code: Code, name_zh: NameZh, name_en: NameEn) -> None:
    """Add or rename a partner merchant (approved)."""

    async def job(services: Services) -> int:
        now = _now(services)
        return await services.db.write(
            lambda conn: merchants.upsert(conn, _upper(code), name_zh, name_en, now)
        )

    run_with_services(job)
    out.print(f"merchant {_upper(code)} saved")


@activity_app.command("add")
def activity_add(
    code: Code,
    title_zh: Annotated[str, typer.Argument(help="Chinese title.")],
    title_en: Annotated[str, typer.Argument(help="English title.")],
    start: Annotated[str, typer.Option(help="Start, ISO date or date-time (local time).")],
    end: Annotated[str, typer.Option(help="End, ISO date or date-time (local time).")],
    limit: Annotated[int | None, typer.Option(help="Redemptions per account.", min=1)] = None,
    body_zh: Annotated[str, typer.Option(help="Chinese description.")] = "",
    body_en: Annotated[str, typer.Option(help="English description.")] = "",
) -> None:
    """Add or change an activity running from --start to --end."""

    async def job(services: Services) -> int:
        zone = _zone(services)
        try:
            starts, ends = parse_moment(start, zone), parse_moment(end, zone)
        except ValueError:
            err.print(f"[red]--start/--end must be ISO dates:[/red] {start!r} {end!r}")
            raise typer.Exit(2) from None
        if ends <= starts:
            err.print("[red]--end must be after --start[/red]")
            raise typer.Exit(2)

        def unit(conn: Connection) -> int:
            return editing.upsert_activity(
                conn,
                _upper(code),
                title_zh,
                title_en,
                starts,
                ends,
                body_zh=body_zh,
                body_en=body_en,
                per_account_limit=limit,
            )

        return await services.db.write(unit)

    run_with_services(job)
    out.print(f"activity {_upper(code)} saved")


@catalog_app.command("announce")
def announce(title_zh: str, title_en: str, body_zh: str, body_en: str) -> None:
    """Publish an announcement (the same Chinese title again changes nothing)."""

    async def job(services: Services) -> int:
        now = _now(services)
        return await services.db.write(
            lambda conn: editing.add_announcement(conn, title_zh, title_en, body_zh, body_en, now)
        )

    out.print(f"announcement {run_with_services(job)} published")


def _opt(value: object) -> str:
    return "-" if value is None else str(value)


def _yuan(cents: int | None) -> str:
    return "-" if cents is None else f"{cents / 100:.2f}"


@catalog_app.command("list")
def list_command() -> None:
    """Print every item and activity as a table."""

    async def job(
        services: Services,
    ) -> tuple[list[listing.ItemLine], list[listing.ActivityLine], ZoneInfo]:
        found = await services.db.read(listing.items)
        acts = await services.db.read(listing.activities)
        return found, acts, _zone(services)

    found, acts, zone = run_with_services(job)
    table = Table(title=f"{len(found)} items")
    table.add_column("code", no_wrap=True)
    table.add_column("name", min_width=16)
    for column in ("cat", "kind", "points", "stock", "sold", "views", "by"):
        table.add_column(column, no_wrap=True)
    for i in found:
        notes = [f"face ¥{_yuan(i.face_value_cents)}"] if i.face_value_cents else []
        if i.activity:
            notes.append(f"activity {i.activity}")
        if i.per_account_limit is not None:
            notes.append(f"≤{i.per_account_limit}/day")
        if not i.active:
            notes.append("off sale")
        table.add_row(
            i.code,
            "\n".join([i.name_zh, i.name_en, *([", ".join(notes)] if notes else [])]),
            i.category,
            i.kind[:4],
            f"{i.points:,}" + ("" if i.cash_cents is None else f"+¥{_yuan(i.cash_cents)}"),
            "∞" if i.stock is None else str(i.stock),
            str(i.sold),
            str(i.views),
            i.merchant or i.brand or "-",
        )
    out.print(table)
    if acts:
        act_table = Table(title=f"{len(acts)} activities")
        for column in ("code", "title", "starts", "ends", "limit"):
            act_table.add_column(column, overflow="fold")

        def local(at: int) -> str:
            return datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d %H:%M")

        for a in acts:
            act_table.add_row(
                a.code,
                f"{a.title_zh} / {a.title_en}",
                local(a.starts_at),
                local(a.ends_at),
                _opt(a.per_account_limit),
            )
        out.print(act_table)
