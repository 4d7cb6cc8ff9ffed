"""The ``clusterbot`` command: serve, chat, ask, ingest, and the staff tools (report, audit...).

Commands hold no logic: they build the app from Settings and call what the bot itself calls.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from bot import redact
from bot.app import DEMO_CORPUS, App
from bot.cli_broadcast import COMMANDS as BROADCAST_COMMANDS
from bot.cli_common import (
    AUDIENCE_CHOICE,
    VISIBLE,
    data_dir_option,
    run,
    settings_for,
    today_option,
    with_app,
    with_settings,
)
from bot.cli_events import COMMANDS as EVENT_COMMANDS
from bot.cli_scouting import COMMANDS as SCOUTING_COMMANDS
from bot.cli_scouting import import_demo_portfolio
from bot.cli_staff import COMMANDS as STAFF_COMMANDS
from bot.cli_vectors import COMMANDS as VECTOR_COMMANDS
from bot.console import chat_loop, render
from bot.errors import ClusterbotError
from bot.handlers.ask import reply_for
from bot.lifecycle import NO_CHANNEL
from bot.matching import match_json, match_lines, read_profile
from bot.opportunities import opportunity_json
from bot.report import (
    audit_ingest,
)
from bot.serve import Server, build_channels, vector_health
from bot.serve import serve as run_server
from ingest.types import OPPORTUNITY_KINDS
from knowledge.answer import AnswerOptions
from knowledge.match import Matcher
from knowledge.profile import Profile
from knowledge.types import Answer
from storage.locks import held


@click.group(invoke_without_command=True)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """clusterbot: answers, alerts and broadcasts for life-science cluster members.

    Without a command: serve Telegram and Slack when their tokens are set, else chat in
    the terminal over the bundled demo corpus.
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )
    redact.install()  # token-shaped strings never reach the terminal or log files
    if verbose < 2:
        # Below debug, bolt would log whole request bodies (people's messages) at INFO.
        logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    if ctx.invoked_subcommand is None:
        if settings_for(None).channels:
            ctx.invoke(serve)
        else:
            ctx.invoke(chat)


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
def chat(
    data_dir: Path | None = None,
    today: str | None = None,
    audience: str = "public",
    no_demo: bool = False,
) -> None:
    """Chat in the terminal (ingests the bundled demo corpus on first start)."""

    async def body(app: App) -> None:
        if not no_demo:
            await demo_on_first_start(app)
        await chat_loop(app.console_assistant(VISIBLE[audience]))

    run(with_app(data_dir, today, body))


async def demo_on_first_start(app: App) -> None:
    """Ingest the demo corpus and portfolio into an empty store, once however many start."""
    if not await app.is_empty():
        return
    # Processes started together on an empty store: one ingests, the others wait for it.
    async with held(app.engine, "first-start"):
        if not await app.is_empty():
            return
        click.echo(f"First start: ingesting the demo corpus from {DEMO_CORPUS} ...", err=True)
        summary = await app.ingester.ingest([str(DEMO_CORPUS)], audience="public")
        click.echo(summary.line(), err=True)
        await audit_ingest(
            app.sessions,
            actor="first-start",
            targets=[str(DEMO_CORPUS)],
            audience="public",
            summary=summary,
        )
        click.echo((await import_demo_portfolio(app)).line(), err=True)


@cli.command()
@data_dir_option
@click.option("--no-demo", is_flag=True, help="Do not ingest the demo corpus into an empty store.")
def serve(data_dir: Path | None = None, no_demo: bool = False) -> None:
    """Serve every configured channel (Telegram, Slack) in one process until interrupted."""
    settings = settings_for(data_dir)
    redact.install(settings.secrets())
    if not settings.channels:
        raise click.ClickException(NO_CHANNEL)

    def ready(server: Server) -> None:
        names = " and ".join(c.channel for c in server.channels)
        click.echo(
            f"Serving {names}. Health check: http://{settings.http_host}:{server.web.port}"
            "/healthz. Ctrl-C stops.",
            err=True,
        )

    async def body(app: App) -> None:
        if not no_demo:
            await demo_on_first_start(app)
        await run_server(app, on_ready=ready)

    run(with_settings(settings, None, body))


@cli.command()
@data_dir_option
def check(data_dir: Path | None) -> None:
    """Check the configuration: database, vector store, and each channel's token."""
    settings = settings_for(data_dir)
    redact.install(settings.secrets())
    problems = 0

    async def body(app: App) -> None:
        nonlocal problems
        click.echo(f"database: ok ({app.settings.resolved_database_url.split(':')[0]})")
        vectors = await vector_health(app)
        click.echo(f"vectors: {'ok' if vectors['ok'] else 'not ok'} ({vectors['where']})")
        problems += 0 if vectors["ok"] else 1
        channels = build_channels(app)
        if not channels:
            click.echo(
                "channels: none configured (set CLUSTERBOT_TELEGRAM_TOKEN / _SLACK_BOT_TOKEN)"
            )
        for channel in channels:
            try:
                await channel.start()
                status = await channel.health()
                click.echo(f"{channel.channel}: {'ok' if status.get('ok') else 'not ok'} {status}")
                problems += 0 if status.get("ok") else 1
            except ClusterbotError as exc:
                click.echo(f"{channel.channel}: {exc}")
                problems += 1
            finally:
                await channel.stop()

    run(with_settings(settings, None, body, quiet=True))
    if problems:
        sys.exit(1)


@cli.command()
@data_dir_option
def deliver(data_dir: Path | None = None) -> None:
    """Send queued alerts, reminders and digests until interrupted.

    Runs beside 'serve' (it takes no updates). Ctrl-C or SIGTERM hands back what was not sent.
    """
    from bot.deliver import deliver as run_delivery
    from bot.delivery import DeliveryWorker

    settings = settings_for(data_dir)
    redact.install(settings.secrets())
    if not settings.channels:
        raise click.ClickException(NO_CHANNEL)

    def ready(worker: DeliveryWorker) -> None:
        names = " and ".join(settings.channels)
        click.echo(f"Delivering through {names}. Ctrl-C stops.", err=True)

    async def body(app: App) -> None:
        stats = await run_delivery(app, on_ready=ready)
        click.echo(f"Stopped: {stats.line()}.", err=True)

    run(with_settings(settings, None, body, quiet=True))


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
        options = AnswerOptions(audiences=VISIBLE[audience], kinds=kinds or None, channel="cli")
        for line in lines:
            if not line.strip():
                continue
            answer = await app.answerer.answer(line, options)
            if as_json:
                click.echo(json.dumps(answer_json(answer), ensure_ascii=False))
            else:
                click.echo(render(reply_for(answer)) + "\n")

    run(with_app(data_dir, today, body, quiet=True))


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
        await audit_ingest(
            app.sessions, actor="cli", targets=targets, audience=audience, summary=summary
        )
        # New and changed opportunities are matched to profiles at once; the delivery
        # worker (serve or deliver) sends what this queues.
        if summary.added or summary.updated:
            click.echo(f"alerts: {(await app.planner().plan()).line()}")

    run(with_app(data_dir, None, body))
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

    run(with_app(data_dir, today, body, quiet=True))


@cli.command()
@data_dir_option
@today_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for tools).")
@click.option(
    "--profile",
    "profile_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON file with the company profile (name, description, sectors, ...).",
)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1))
def match(
    data_dir: Path | None, today: str | None, as_json: bool, profile_file: Path, limit: int
) -> None:
    """Match a company profile against the open and forthcoming opportunities."""
    profile, ignored = _read_profile(profile_file)
    for name in ignored:
        click.echo(f"note: profile field {name!r} is not used for matching", err=True)

    async def body(app: App) -> None:
        matcher = Matcher(sessions=app.sessions, index=app.index)
        result = await match_json(matcher, profile, today=app.clock.today(), limit=limit)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            for line in match_lines(result):
                click.echo(line)

    run(with_app(data_dir, today, body, quiet=True))


def _read_profile(path: Path) -> tuple[Profile, list[str]]:
    try:
        return read_profile(path)
    except ClusterbotError as exc:
        raise click.ClickException(str(exc)) from exc


for _command in (
    *STAFF_COMMANDS,
    *EVENT_COMMANDS,
    *SCOUTING_COMMANDS,
    *BROADCAST_COMMANDS,
    *VECTOR_COMMANDS,
):
    cli.add_command(_command)


def main() -> None:
    """Entry point of the ``clusterbot`` console script."""
    cli()


__all__ = ["answer_json", "cli", "demo_on_first_start", "main"]
