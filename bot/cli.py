"""The ``clusterbot`` command: serve, chat, ask, ingest, and the staff tools (report, audit...).

Commands hold no logic: they build the app from Settings and call what the bot itself calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from bot import redact
from bot.admin import confirm_membership, organisations, set_role
from bot.app import DEMO_CORPUS, App, build_app
from bot.config import Settings
from bot.console import chat_loop, render
from bot.context import ROLES
from bot.errors import ClusterbotError
from bot.handlers.ask import reply_for
from bot.lifecycle import NO_CHANNEL
from bot.matching import match_json, match_lines, read_profile
from bot.opportunities import opportunity_json
from bot.report import (
    audit_ingest,
    audit_json,
    audit_line,
    build_report,
    day_start,
    render_csv,
    render_markdown,
    render_png,
)
from bot.serve import Server, build_channels
from bot.serve import serve as run_server
from bot.unanswered import answer_question, describe, list_unanswered
from ingest.types import OPPORTUNITY_KINDS
from knowledge.answer import AnswerOptions
from knowledge.clock import Clock, FixedClock
from knowledge.match import Matcher
from knowledge.profile import Profile
from knowledge.types import Answer
from storage.alerts import category_stats
from storage.report import audit_entries

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
    await _with_settings(_settings(data_dir), today, body, quiet=quiet)


async def _with_settings(
    settings: Settings,
    today: str | None,
    body: Callable[[App], Awaitable[None]],
    *,
    quiet: bool = False,
) -> None:
    progress = None if quiet else (lambda line: click.echo(line, err=True))
    app = await build_app(settings, clock=_clock(today), progress=progress)
    try:
        await body(app)
    finally:
        await app.close()


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
        if _settings(None).channels:
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
            await _demo_on_first_start(app)
        await chat_loop(app.console_assistant(_VISIBLE[audience]))

    _run(_with_app(data_dir, today, body))


async def _demo_on_first_start(app: App) -> None:
    if await app.is_empty():
        click.echo(f"First start: ingesting the demo corpus from {DEMO_CORPUS} ...", err=True)
        summary = await app.ingester.ingest([str(DEMO_CORPUS)], audience="public")
        click.echo(summary.line(), err=True)


@cli.command()
@data_dir_option
@click.option("--no-demo", is_flag=True, help="Do not ingest the demo corpus into an empty store.")
def serve(data_dir: Path | None = None, no_demo: bool = False) -> None:
    """Serve every configured channel (Telegram, Slack) in one process until interrupted."""
    settings = _settings(data_dir)
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
            await _demo_on_first_start(app)
        await run_server(app, on_ready=ready)

    _run(_with_settings(settings, None, body))


@cli.command()
@data_dir_option
def check(data_dir: Path | None) -> None:
    """Check the configuration: database, and each channel's token against its API."""
    settings = _settings(data_dir)
    redact.install(settings.secrets())
    problems = 0

    async def body(app: App) -> None:
        nonlocal problems
        click.echo(f"database: ok ({app.settings.resolved_database_url.split(':')[0]})")
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

    _run(_with_settings(settings, None, body, quiet=True))
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

    settings = _settings(data_dir)
    redact.install(settings.secrets())
    if not settings.channels:
        raise click.ClickException(NO_CHANNEL)

    def ready(worker: DeliveryWorker) -> None:
        names = " and ".join(settings.channels)
        click.echo(f"Delivering through {names}. Ctrl-C stops.", err=True)

    async def body(app: App) -> None:
        stats = await run_delivery(app, on_ready=ready)
        click.echo(f"Stopped: {stats.line()}.", err=True)

    _run(_with_settings(settings, None, body, quiet=True))


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
        await audit_ingest(
            app.sessions, actor="cli", targets=targets, audience=audience, summary=summary
        )
        # New and changed opportunities are matched to profiles at once; the delivery
        # worker (serve or deliver) sends what this queues.
        if summary.added or summary.updated:
            click.echo(f"alerts: {(await app.planner().plan()).line()}")

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

    _run(_with_app(data_dir, today, body, quiet=True))


def _read_profile(path: Path) -> tuple[Profile, list[str]]:
    try:
        return read_profile(path)
    except ClusterbotError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.group()
def alerts() -> None:
    """Alerts: plan them now, and see how they were received."""


@alerts.command("plan")
@data_dir_option
@today_option
def alerts_plan(data_dir: Path | None, today: str | None) -> None:
    """Match new and changed opportunities to profiles and queue the messages (for cron)."""

    async def body(app: App) -> None:
        summary = await app.planner().plan()
        click.echo(summary.line())

    _run(_with_app(data_dir, today, body, quiet=True))


@alerts.command("stats")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per category.")
def alerts_stats(data_dir: Path | None, as_json: bool) -> None:
    """Alerts sent per category, the feedback on them, and precision."""

    async def body(app: App) -> None:
        async with app.sessions() as session:
            rows = await category_stats(session)
        if not rows and not as_json:
            click.echo("no alerts sent yet")
        for row in rows:
            precision = None if row.precision is None else round(row.precision, 3)
            if as_json:
                record = asdict(row) | {"precision": precision}
                click.echo(json.dumps(record))
                continue
            shown = "n/a" if precision is None else f"{precision:.0%}"
            click.echo(
                f"{row.category:<10} sent {row.sent:>5}  judged {row.answered:>4}  "
                f"relevant {row.relevant:>4}  not for us {row.not_for_us:>4}  "
                f"already knew {row.already_knew:>4}  saved {row.saved:>4}  "
                f"applying {row.applying:>4}  precision {shown}"
            )

    _run(_with_app(data_dir, None, body, quiet=True))


@cli.group()
def org() -> None:
    """Organisations: list them, confirm which are members."""


@org.command("list")
@data_dir_option
def org_list(data_dir: Path | None) -> None:
    """List organisations with membership and number of people."""

    async def body(app: App) -> None:
        rows = await organisations(app.sessions)
        if not rows:
            click.echo("no organisations yet (they are created when people run /start)")
        for row in rows:
            member = "member" if row.is_member else "-"
            click.echo(
                f"{row.id:>5}  {member:<7} {row.people:>3} people  {row.name or '(unnamed)'}"
            )

    _run(_with_app(data_dir, None, body, quiet=True))


@org.command("confirm")
@data_dir_option
@click.option("--revoke", is_flag=True, help="Withdraw membership instead.")
@click.argument("name_or_id")
def org_confirm(data_dir: Path | None, revoke: bool, name_or_id: str) -> None:
    """Confirm an organisation as a member: its people may see member documents."""

    async def body(app: App) -> None:
        row = await confirm_membership(app.sessions, name_or_id, member=not revoke, actor="cli")
        state = "a member" if row.is_member else "no longer a member"
        click.echo(f"{row.name or row.id} is {state}")

    _run(_with_app(data_dir, None, body, quiet=True))


@cli.group()
def people() -> None:
    """People: roles (member, staff, admin)."""


@people.command("role")
@data_dir_option
@click.argument("person", metavar="CHANNEL:USER")
@click.argument("role", type=click.Choice(ROLES))
def people_role(data_dir: Path | None, person: str, role: str) -> None:
    """Give a person a role, e.g. 'clusterbot people role telegram:123456 staff'."""

    async def body(app: App) -> None:
        await set_role(app.sessions, person, role, actor="cli")
        click.echo(f"{person} is now {role}")

    _run(_with_app(data_dir, None, body, quiet=True))


@cli.group()
def questions() -> None:
    """Questions the bot could not answer: list them, answer one."""


@questions.command("list")
@data_dir_option
def questions_list(data_dir: Path | None) -> None:
    """List questions declined, marked 👎 or handed to a person, with their context."""

    async def body(app: App) -> None:
        items = await list_unanswered(app.sessions, limit=200)
        if not items:
            click.echo("no questions are waiting for staff")
        for item in items:
            click.echo(describe(item) + "\n")

    _run(_with_app(data_dir, None, body, quiet=True))


@questions.command("answer")
@data_dir_option
@today_option
@click.option("--expires", metavar="YYYY-MM-DD", help="Stop using the answer after this day.")
@click.argument("question_id", type=int)
@click.argument("text")
def questions_answer(
    data_dir: Path | None, today: str | None, expires: str | None, question_id: int, text: str
) -> None:
    """Answer a queued question: the asker is told and later questions are answered from it."""

    async def body(app: App) -> None:
        done = await answer_question(
            app.sessions,
            question_id=question_id,
            text=text,
            actor="cli",
            today=app.clock.today(),
            expires=expires,
            index=app.index,
        )
        click.echo(
            f"answered question #{done.question_id} as {done.source} "
            f"(used until {done.expires_at.isoformat()}; {done.notified} notice(s) queued)"
        )

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


def _date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-28") from exc


@cli.command()
@data_dir_option
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD", callback=_date_option)
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD", callback=_date_option)
@click.option(
    "--format", "fmt", type=click.Choice(["md", "csv", "png"]), default="md", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output; required for png).",
)
def report(data_dir: Path | None, start: date, end: date, fmt: str, output: Path | None) -> None:
    """The impact report for funders: what the bot did from --from to --to (inclusive)."""
    if start > end:
        raise click.UsageError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    if fmt == "png" and output is None:
        raise click.UsageError("--format png needs --output FILE")

    data = b""

    async def body(app: App) -> None:
        nonlocal data
        built = await build_report(app.sessions, start, end)
        if fmt == "png":
            data = render_png(built)
        else:
            data = (render_markdown(built) if fmt == "md" else render_csv(built)).encode()

    _run(_with_app(data_dir, None, body, quiet=True))
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"report written to {output}", err=True)


@cli.command()
@data_dir_option
@click.option("--since", metavar="YYYY-MM-DD", callback=_date_option, help="From this day on.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
def audit(data_dir: Path | None, since: date | None, as_json: bool) -> None:
    """List the audit log: ingests, roles, memberships, erasures, alert feedback."""

    async def body(app: App) -> None:
        async with app.sessions() as session:
            entries = await audit_entries(session, None if since is None else day_start(since))
        if not entries and not as_json:
            click.echo("no audit entries" + (f" since {since.isoformat()}" if since else ""))
        for entry in entries:
            if as_json:
                click.echo(json.dumps(audit_json(entry), ensure_ascii=False))
            else:
                click.echo(audit_line(entry))

    _run(_with_app(data_dir, None, body, quiet=True))


def main() -> None:
    """Entry point of the ``clusterbot`` console script."""
    cli()


__all__ = ["answer_json", "cli", "main"]
