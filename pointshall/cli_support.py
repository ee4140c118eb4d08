"""What the command-line modules share: settings, consoles, running a job with services."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from pointshall.bootstrap import Services, bootstrap
from pointshall.config import Settings, problems

out = Console(soft_wrap=True)  # commands it prints must stay copy-pastable
err = Console(stderr=True, soft_wrap=True)  # an error is one line, however long
T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        line = f"configuration error: {problems(exc)}"
        err.print(line, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def run_with_services(job: Callable[[Services], Awaitable[T]], *, upgrade: bool = True) -> T:
    async def main() -> T:
        services = await bootstrap(load_settings(), upgrade=upgrade)
        try:
            return await job(services)
        finally:
            await services.close()

    return asyncio.run(main())
