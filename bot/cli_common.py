"""What every ``clusterbot`` command shares: options, settings, and running the app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.app import App, build_app
from bot.config import Settings
from bot.errors import ClusterbotError
from knowledge.clock import Clock, FixedClock

F = TypeVar("F", bound=Callable[..., Any])
AUDIENCE_CHOICE = click.Choice(["public", "members", "staff"])
#: What each --audience choice may see.
VISIBLE = {
    "public": ("public",),
    "members": ("public", "members"),
    "staff": ("public", "members", "staff"),
}


def settings_for(data_dir: Path | None) -> Settings:
    """Settings from the environment, with ``--data-dir`` when given; a clear error if bad."""
    try:
        return Settings(data_dir=data_dir) if data_dir else Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise click.ClickException(f"invalid settings: {exc}") from exc


def clock_for(today: str | None) -> Clock | None:
    """A clock fixed on ``--today``, or None for the real one."""
    if today is None:
        return None
    try:
        return FixedClock(date.fromisoformat(today))
    except ValueError as exc:
        raise click.BadParameter(
            f"{today!r} is not a date like 2026-11-28", param_hint="--today"
        ) from exc


def data_dir_option(func: F) -> F:
    """``--data-dir``, spelled the same on every command."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="CLUSTERBOT_DATA_DIR",
        help="Where the database and vectors live (default ./.clusterbot).",
    )(func)


def today_option(func: F) -> F:
    """``--today``: answer as if it were that day."""
    return click.option("--today", metavar="YYYY-MM-DD", help="Answer as if today were this day.")(
        func
    )


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run a command's body; the bot's own errors become a clean message and exit 1."""
    try:
        asyncio.run(coro)
    except ClusterbotError as exc:
        raise click.ClickException(str(exc)) from exc


async def with_app(
    data_dir: Path | None,
    today: str | None,
    body: Callable[[App], Awaitable[None]],
    *,
    quiet: bool = False,
) -> None:
    """Build the app from the environment (and ``--data-dir``), run ``body``, close it."""
    await with_settings(settings_for(data_dir), today, body, quiet=quiet)


async def with_settings(
    settings: Settings,
    today: str | None,
    body: Callable[[App], Awaitable[None]],
    *,
    quiet: bool = False,
) -> None:
    """Build the app from ``settings``, run ``body`` on it, and close it whatever happens."""
    progress = None if quiet else (lambda line: click.echo(line, err=True))
    app = await build_app(settings, clock=clock_for(today), progress=progress)
    try:
        await body(app)
    finally:
        await app.close()


def date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """Click callback: an ISO date, or a clear error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-28") from exc


__all__ = [
    "AUDIENCE_CHOICE",
    "VISIBLE",
    "clock_for",
    "data_dir_option",
    "date_option",
    "run",
    "settings_for",
    "today_option",
    "with_app",
    "with_settings",
]
