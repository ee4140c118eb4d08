"""What the command-line modules share: settings, consoles, running a job with services."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from pointshall import root_key
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


def run_with_services(
    job: Callable[[Services], Awaitable[T]], *, upgrade: bool = True, demo: bool = False
) -> T:
    """Run ``job`` with the services; ``demo``: the demo's key file may be made and used."""

    async def main() -> T:
        settings = load_settings()
        demo_key = root_key.DEMO_KEY_FILE if demo else root_key.demo_fallback(settings)
        services = await bootstrap(settings, upgrade=upgrade, demo_key=demo_key)
        try:
            return await job(services)
        finally:
            await services.close()

    return asyncio.run(main())
