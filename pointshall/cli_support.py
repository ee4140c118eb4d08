"""What the command-line modules share: settings, consoles, running a job with services."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from pointshall.bootstrap import Services, bootstrap
from pointshall.config import Settings

out = Console(soft_wrap=True)  # commands it prints must stay copy-pastable
err = Console(stderr=True)
T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError names the variable
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


def run_with_services(job: Callable[[Services], Awaitable[T]], *, upgrade: bool = True) -> T:
    async def main() -> T:
        services = await bootstrap(load_settings(), upgrade=upgrade)
        try:
            return await job(services)
        finally:
            await services.close()

    return asyncio.run(main())
