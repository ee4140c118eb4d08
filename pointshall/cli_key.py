"""``pointshall key new|rotate|adopt|status``: the root keys, kept outside the database
(issue 13 §2; ``pointshall.root_key``, ``core.platform.keys``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from core.platform import key_usage, keys, secret_key
from core.platform.clock import epoch
from core.platform.db import open_database
from core.platform.errors import ConfigurationError
from core.platform.keys import LEGACY_MIN_BYTES, RootKey
from pointshall import migrate, root_key
from pointshall.bootstrap import Services
from pointshall.cli_support import err, load_settings, out, run_with_services

key_app = typer.Typer(help="The root keys (kept outside the database).", no_args_is_help=True)
Out = Annotated[Path | None, typer.Option("--out", help="Write a new key file here (mode 0600).")]
KeyFile = Annotated[
    Path | None,
    typer.Option("--key-file", help="The key file [POINTSHALL_SECRET_KEY_FILE]."),
]


@key_app.command("new")
def new(out_file: Out = None) -> None:
    """Make a root key: print it (for POINTSHALL_SECRET_KEY) or write a key file."""
    made = (keys.new_key(1),)
    if out_file is None:
        out.print(keys.render(made).strip(), markup=False, highlight=False)
        return
    root_key.write_key_file(out_file, made)
    err.print(f"wrote {out_file} (mode 0600); set POINTSHALL_SECRET_KEY_FILE={out_file}")


@key_app.command("rotate")
def rotate(key_file: KeyFile = None) -> None:
    """Add a new current key: new secrets use it, the older keys still verify."""
    settings = load_settings()
    path = key_file or settings.secret_key_file or root_key.demo_fallback(settings)
    if path is not None:
        held = root_key.read_key_file(path)
        turned = keys.rotated(held)
        root_key.write_key_file(path, turned, replace=True)
        err.print(
            f"{path}: {turned[-1].kid} is now the current key; {_ids(held)} still verify. "
            "Restart `pointshall serve` to use it."
        )
        return
    held_env = root_key.configured(settings)
    if held_env is None:
        raise ConfigurationError(root_key.NO_KEY)
    turned = keys.rotated(held_env)
    err.print(
        f"{turned[-1].kid} is the new current key; set POINTSHALL_SECRET_KEY to these lines "
        "(all of them) and restart `pointshall serve`:"
    )
    out.print(keys.render(turned).strip(), markup=False, highlight=False)


@key_app.command("adopt")
def adopt(
    out_file: Annotated[Path, typer.Option("--out", help="The key file to write (mode 0600).")],
) -> None:
    """Move the key an older installation kept (in the database or a raw POINTSHALL_SECRET_KEY)
    into a new key file as k0, with a new current key k1; delete it from the database (which
    is upgraded first)."""
    settings = load_settings()

    async def main() -> bool:
        db = open_database(settings.database_url)
        try:
            await migrate.upgrade(db)
            old = await db.read(secret_key.legacy)
            raw = settings.secret_key.get_secret_value().strip() if settings.secret_key else ""
            if old is None and (not raw or ":" in raw):
                return False
            legacy = old if old is not None else raw.encode()
            if len(legacy) < LEGACY_MIN_BYTES:
                raise ConfigurationError(f"the old key is shorter than {LEGACY_MIN_BYTES} bytes")
            root_key.write_key_file(out_file, (keys.legacy(legacy), keys.new_key(1)))
            if old is not None:
                await db.write(secret_key.forget)
            return True
        finally:
            await db.dispose()

    if not asyncio.run(main()):
        err.print("nothing to adopt: the database holds no key and POINTSHALL_SECRET_KEY is unset")
        raise typer.Exit(1)
    err.print(
        f"wrote {out_file} (mode 0600): k0 verifies what the old key made, k1 makes new "
        f"secrets. Set POINTSHALL_SECRET_KEY_FILE={out_file} (and unset POINTSHALL_SECRET_KEY)."
    )


@key_app.command("status")
def status() -> None:
    """The keys held, which is current, and what live secrets each one still made."""

    async def job(services: Services) -> tuple[str, tuple[str, ...], list[key_usage.Usage]]:
        ring = services.keyring
        now = epoch(services.clock.now())
        used = await services.db.read(lambda conn: key_usage.usage(conn, ring.key_ids, now))
        return ring.current_id, ring.key_ids, used

    current, held, used = run_with_services(job)
    for kid in held:
        mark = " (current)" if kid == current else ""
        counts = ", ".join(f"{u.count} {u.what}" for u in used if u.kid == kid) or "nothing"
        out.print(f"{kid}{mark}: {counts}", markup=False, highlight=False)
    for u in used:
        if u.kid not in held:
            out.print(f"{u.kid} (not held!): {u.count} {u.what}", markup=False, highlight=False)


def _ids(held: tuple[RootKey, ...]) -> str:
    return ", ".join(k.kid for k in held)
