"""``clusterbot events``: network meetings created by staff, listed and cancelled.

A created meeting is stored exactly like one from an ingested calendar (see
:mod:`bot.staff_events`), and alerts about it are planned at once, as after an ingest.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from bot.app import App
from bot.cli_common import AUDIENCE_CHOICE, data_dir_option, run, today_option, with_app
from bot.event_draft import make_draft, parse_moment
from bot.staff_events import cancel_event, create_event, list_events


@click.group()
def events() -> None:
    """Network meetings: create one, list them, cancel one."""


@events.command("create")
@data_dir_option
@today_option
@click.option("--title", required=True, help="What the meeting is called.")
@click.option(
    "--start", required=True, metavar="'YYYY-MM-DD HH:MM'", help="When it starts (local time)."
)
@click.option(
    "--end", metavar="'[YYYY-MM-DD] HH:MM'", help="When it ends; a time alone is on the start day."
)
@click.option("--location", required=True, help="Where: an address, a room, or 'online'.")
@click.option("--description", default="", help="What happens there, for members.")
@click.option(
    "--audience",
    type=AUDIENCE_CHOICE,
    default="public",
    show_default=True,
    help="Who may see the meeting.",
)
def events_create(
    data_dir: Path | None,
    today: str | None,
    title: str,
    start: str,
    end: str | None,
    location: str,
    description: str,
    audience: str,
) -> None:
    """Create a network meeting (times in the cluster's timezone, CLUSTERBOT_TIMEZONE)."""

    async def body(app: App) -> None:
        tz = app.settings.timezone
        starts_at = parse_moment(start, tz, what="start")
        ends_at = None if end is None else parse_moment(end, tz, what="end", day=starts_at.date())
        draft = make_draft(
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            location=location,
            description=description,
            audience=audience,
            today=app.clock.today(),
        )
        event = await create_event(app.sessions, app.ingester, draft, actor="cli")
        click.echo(
            f"created meeting #{event.opportunity_id} ({event.uid}): {draft.title}, "
            f"{draft.when()} {tz}, {draft.location}"
        )
        click.echo(f"alerts: {(await app.planner().plan()).line()}")

    run(with_app(data_dir, today, body, quiet=True))


@events.command("list")
@data_dir_option
@today_option
@click.option("--all", "include_past", is_flag=True, help="Past and cancelled meetings too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per meeting.")
def events_list(
    data_dir: Path | None, today: str | None, include_past: bool, as_json: bool
) -> None:
    """List upcoming meetings (from calendars and created by staff) with RSVPs going."""

    async def body(app: App) -> None:
        rows = await list_events(
            app.sessions,
            today=app.clock.today(),
            tz=app.settings.timezone,
            include_past=include_past,
        )
        if not rows and not as_json:
            click.echo("no upcoming meetings")
        for row in rows:
            if as_json:
                click.echo(json.dumps(asdict(row), ensure_ascii=False))
                continue
            where = f", {row.location}" if row.location else ""
            origin = "cancelled" if row.cancelled else row.origin
            click.echo(
                f"{row.id:>5}  {row.starts_at}  {origin:<9} {row.going:>3} going  "
                f"{row.title}{where}"
            )

    run(with_app(data_dir, today, body, quiet=True))


@events.command("cancel")
@data_dir_option
@click.option("--reason", default="", help="One sentence for the people who RSVPed.")
@click.argument("event", metavar="ID_OR_UID")
def events_cancel(data_dir: Path | None, reason: str, event: str) -> None:
    """Cancel a meeting created by staff: who RSVPed is told, and it leaves /events."""

    async def body(app: App) -> None:
        title, told = await cancel_event(
            app.sessions,
            app.ingester,
            event,
            actor="cli",
            tz=app.settings.timezone,
            reason=reason,
        )
        click.echo(f"cancelled {title}; {told} notice(s) queued for people who RSVPed")

    run(with_app(data_dir, None, body, quiet=True))


#: The group this module adds to ``clusterbot``.
COMMANDS: tuple[click.Command, ...] = (events,)

__all__ = ["COMMANDS"]
