"""The ``clusterbot`` command: chat, ask, ingest, opportunities, db upgrade.

Commands hold no logic: they build the app from Settings and call what the bot itself calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.app import DEMO_CORPUS, App, build_app
from bot.config import Settings
from bot.console import chat_loop, render
from bot.errors import ClusterbotError
from bot.handlers.ask import reply_for
from bot.opportunities import opportunity_json
from ingest.types import OPPORTUNITY_KINDS
from knowledge.answer import AnswerOptions
from knowledge.clock import Clock, FixedClock
from knowledge.types import Answer

F = TypeVar("F", bound=Callable[..., Any])
AUDIENCE_CHOICE = click.Choice(["public", "members", "staff"])
_VISIBLE = {
    "public": ("public",),
    "members": ("public", "members"),
    "staff": ("public", "members", "staff"),
}


def _settings(data_dir: Path | None) -> Settings:
    try:
        return Settings(data_dir=data_dir) if data_dir else Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise click.ClickException(f"invalid settings: {exc}") from exc


def _clock(today: str | None) -> Clock | None:
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


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.run(coro)
    except ClusterbotError as exc:
        raise click.ClickException(str(exc)) from exc


async def _with_app(
    data_dir: Path | None,
    today: str | None,
    body: Callable[[App], Awaitable[None]],
    *,
    quiet: bool = False,
) -> None:
    progress = None if quiet else (lambda line: click.echo(line, err=True))
    app = await build_app(_settings(data_dir), clock=_clock(today), progress=progress)
    try:
        await body(app)
    finally:
        await app.close()


@click.group()
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """clusterbot: answers, alerts and broadcasts for life-science cluster members."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )


@cli.command()
@data_dir_option
@today_option
@click.option(
    "--audience",
    type=AUDIENCE_CHOICE,
    default="public",
    show_default=True,
    help="Answer as someone who may see this.",
)
@click.option("--no-demo", is_flag=True, help="Do not ingest the demo corpus into an empty store.")
def chat(data_dir: Path | None, today: str | None, audience: str, no_demo: bool) -> None:
    """Chat in the terminal (ingests the bundled demo corpus on first start)."""

    async def body(app: App) -> None:
        if not no_demo and await app.is_empty():
            click.echo(f"First start: ingesting the demo corpus from {DEMO_CORPUS} ...", err=True)
            summary = await app.ingester.ingest([str(DEMO_CORPUS)], audience="public")
            click.echo(summary.line(), err=True)
        await chat_loop(app.console_assistant(_VISIBLE[audience]))

    _run(_with_app(data_dir, today, body))


@cli.command()
@data_dir_option
@today_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question (for tools).")
@click.option(
    "--audience",
    type=AUDIENCE_CHOICE,
    default="public",
    show_default=True,
    help="Answer as someone who may see this.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([*OPPORTUNITY_KINDS, "document"]),
    help="Only sources of these kinds (repeatable).",
)
@click.argument("question", nargs=-1, required=True)
def ask(
    data_dir: Path | None,
    today: str | None,
    as_json: bool,
    audience: str,
    kinds: tuple[str, ...],
    question: tuple[str, ...],
) -> None:
    """Answer a question; with '-', one question per line from standard input."""
    from_stdin = question == ("-",)

    async def body(app: App) -> None:
        lines = (
            (line.rstrip("\n") for line in sys.stdin) if from_stdin else iter([" ".join(question)])
        )
        if await app.is_empty():
            click.echo(
                "warning: nothing has been ingested into this data directory yet; run "
                "'clusterbot ingest PATH' (or 'clusterbot chat', which loads the demo corpus)",
                err=True,
            )
        options = AnswerOptions(audiences=_VISIBLE[audience], kinds=kinds or None, channel="cli")
        for line in lines:
            if not line.strip():
                continue
            answer = await app.answerer.answer(line, options)
            if as_json:
                click.echo(json.dumps(answer_json(answer), ensure_ascii=False))
            else:
                click.echo(render(reply_for(answer)) + "\n")

    _run(_with_app(data_dir, today, body, quiet=True))


def answer_json(answer: Answer) -> dict[str, Any]:
    """The stable JSON shape of an answer (see DESIGN.md, Stable interfaces)."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [
            {
                "n": c.n,
                "title": c.passage.title,
                "source": c.passage.url
                if c.passage.source.startswith("http")
                else c.passage.source,
                "record_id": c.passage.record_id,
                "text": c.text,
                "score": round(c.passage.score, 6),
                "section": c.passage.section,
                "url": c.passage.url,
                "status_today": c.passage.status_today,
                "deadlines": [d.isoformat() for d in c.passage.deadlines],
            }
            for c in answer.citations
        ],
        "confidence": round(answer.confidence, 4),
    }


@cli.command()
@data_dir_option
@click.option(
    "--audience",
    type=AUDIENCE_CHOICE,
    default="public",
    show_default=True,
    help="Who may see what is ingested.",
)
@click.argument("targets", nargs=-1, required=True)
def ingest(data_dir: Path | None, audience: str, targets: tuple[str, ...]) -> None:
    """Ingest files, folders and URLs (PDF, DOCX, HTML, Markdown, text, feeds, ICS, CSV, JSON)."""
    failed = 0

    async def body(app: App) -> None:
        nonlocal failed
        summary = await app.ingester.ingest(list(targets), audience=audience)
        for error in summary.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(summary.line())
        failed = summary.failed

    _run(_with_app(data_dir, None, body))
    if failed:
        sys.exit(1)


@cli.command()
@data_dir_option
@today_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (for tools).")
@click.option(
    "--kind", "kinds", multiple=True, help="Only these kinds (funding_call, event, ...)."
)
def opportunities(
    data_dir: Path | None, today: str | None, as_json: bool, kinds: tuple[str, ...]
) -> None:
    """List the structured opportunities with their status on today's date."""

    async def body(app: App) -> None:
        for record in await opportunity_json(
            app.sessions, today=app.clock.today(), kinds=kinds or None
        ):
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                deadlines = ", ".join(record["deadlines"]) or "no deadline"
                title = record["title"][:70]
                click.echo(f"{record['status_today']:<11} {record['id']}  {title}  ({deadlines})")

    _run(_with_app(data_dir, today, body, quiet=True))


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Migrate the database to the newest schema."""
    from storage import create_engine, upgrade

    async def body() -> None:
        engine = create_engine(_settings(data_dir).resolved_database_url)
        try:
            applied = await upgrade(engine)
        finally:
            await engine.dispose()
        click.echo("database upgraded" if applied else "database already up to date")

    _run(body())


def main() -> None:
    """Entry point of the ``clusterbot`` console script."""
    cli()


__all__ = ["answer_json", "cli", "main"]
