"""What the command-line modules share: settings, consoles, running a job with services."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from pointshall.bootstrap import Services, bootstrap
from pointshall.config import Settings

out = Console(soft_wrap=True)  # commands it prints must stay copy-pastable
err = Console(stderr=True)
T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        line = f"configuration error: {settings_problems(exc)}"
        err.print(line, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def settings_problems(exc: ValidationError) -> str:
    """Pydantic's report in one line, naming each setting by its environment variable:
    ``POINTSHALL_PORT: Input should be a valid integer…; POINTSHALL_TIMEZONE: …``."""
    prefix = str(Settings.model_config.get("env_prefix", "")).upper()
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{prefix}{field.upper()}: {message}")
    return "; ".join(problems)


def run_with_services(job: Callable[[Services], Awaitable[T]], *, upgrade: bool = True) -> T:
    async def main() -> T:
        services = await bootstrap(load_settings(), upgrade=upgrade)
        try:
            return await job(services)
        finally:
            await services.close()

    return asyncio.run(main())
