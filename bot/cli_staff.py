"""Staff and operator commands: alerts, organisations, roles, questions, report, audit, db."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click

from bot.admin import confirm_membership, organisations, set_role, set_segments
from bot.app import App
from bot.cli_common import data_dir_option, date_option, run, settings_for, today_option, with_app
from bot.context import ROLES
from bot.report import (
    audit_json,
    audit_line,
    build_report,
    day_start,
    render_csv,
    render_markdown,
    render_png,
)
from bot.unanswered import answer_question, describe, list_unanswered
from storage.alerts import category_stats
from storage.report import audit_entries


@click.group()
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

    run(with_app(data_dir, today, body, quiet=True))


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

    run(with_app(data_dir, None, body, quiet=True))


@click.group()
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

    run(with_app(data_dir, None, body, quiet=True))


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

    run(with_app(data_dir, None, body, quiet=True))


@org.command("set")
@data_dir_option
@click.option("--tier", help="Membership tier, e.g. full or associate ('' clears it).")
@click.option(
    "--network",
    "networks",
    multiple=True,
    help="A thematic network it takes part in (repeatable; replaces the list).",
)
@click.option("--no-networks", is_flag=True, help="Clear its networks.")
@click.argument("name_or_id")
def org_set(
    data_dir: Path | None,
    tier: str | None,
    networks: tuple[str, ...],
    no_networks: bool,
    name_or_id: str,
) -> None:
    """Set an organisation's membership tier and networks (used to segment broadcasts)."""
    if tier is None and not networks and not no_networks:
        raise click.UsageError("give --tier, --network or --no-networks")
    if networks and no_networks:
        raise click.UsageError("--network and --no-networks contradict each other")

    async def body(app: App) -> None:
        chosen = [] if no_networks else (list(networks) or None)
        row = await set_segments(app.sessions, name_or_id, tier=tier, networks=chosen, actor="cli")
        click.echo(f"{row.name or row.id}: updated")

    run(with_app(data_dir, None, body, quiet=True))


@click.group()
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

    run(with_app(data_dir, None, body, quiet=True))


@click.group()
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

    run(with_app(data_dir, None, body, quiet=True))


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

    run(with_app(data_dir, today, body, quiet=True))


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Migrate the database to the newest schema."""
    from storage import create_engine, upgrade

    async def body() -> None:
        engine = create_engine(settings_for(data_dir).resolved_database_url)
        try:
            applied = await upgrade(engine)
        finally:
            await engine.dispose()
        click.echo("database upgraded" if applied else "database already up to date")

    run(body())


@click.command()
@data_dir_option
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD", callback=date_option)
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD", callback=date_option)
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

    run(with_app(data_dir, None, body, quiet=True))
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"report written to {output}", err=True)


@click.command()
@data_dir_option
@click.option("--since", metavar="YYYY-MM-DD", callback=date_option, help="From this day on.")
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

    run(with_app(data_dir, None, body, quiet=True))


#: The groups and commands this module adds to ``clusterbot``.
COMMANDS: tuple[click.Command, ...] = (alerts, org, people, questions, db, report, audit)

__all__ = ["COMMANDS"]
