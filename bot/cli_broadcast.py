"""``clusterbot broadcast``: draft, preview, send, approve, cancel and follow broadcasts.

The same steps as ``/broadcast`` in a chat, for operators at a terminal. The preview shows
the message as each platform will render it (Telegram HTML, Slack Block Kit).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from bot import slack, telegram
from bot.app import App
from bot.broadcast_spec import (
    VALID_FIELDS,
    Request,
    check_text,
    describe_segment,
    parse_buttons,
    parse_segment,
)
from bot.broadcasts import (
    Preview,
    View,
    approval_rule,
    approve,
    cancel,
    confirm,
    create,
    figures_text,
    list_line,
    message,
    people,
    preview,
    reach_line,
    recent,
    set_approval,
    status,
    when,
)
from bot.cli_common import data_dir_option, run, with_app

_AS = click.option(
    "--as",
    "name",
    metavar="NAME",
    help="Who you are in the audit log (default: your login name).",
)


def _actor(name: str | None) -> str:
    return f"cli:{name or getpass.getuser()}"


def _echo_preview(found: Preview, app: App) -> None:
    view = found.view
    click.echo(f"Draft #{view.id} reaches {reach_line(found.counts)}.")
    click.echo(f"To: {describe_segment(view.segment)}")
    click.echo(f"Goes out {when(view, app.settings.timezone)}.")
    if view.needs_approval:
        click.echo("A second staff member must approve it after it is sent.")
    sample = message(view)
    for part in telegram.render(sample):
        click.echo("\n--- Telegram (HTML) ---")
        click.echo(part.text)
        if part.keyboard is not None:
            click.echo(json.dumps(part.keyboard.to_dict(), ensure_ascii=False))
    click.echo("\n--- Slack (Block Kit) ---")
    click.echo(json.dumps(slack.render(sample)["blocks"], ensure_ascii=False, indent=1))
    click.echo(f"\nSend it with: clusterbot broadcast send {view.id}")


def _echo_sent(view: View, app: App) -> None:
    if view.status == "awaiting_approval":
        click.echo(
            f"Broadcast #{view.id} waits for approval: another staff member runs "
            f"'clusterbot broadcast approve {view.id} --as NAME'."
        )
        return
    click.echo(
        f"Broadcast #{view.id} is queued for {people(view.recipients)}; it goes out "
        f"{when(view, app.settings.timezone)} (the delivery worker sends it)."
    )


@click.group()
def broadcast() -> None:
    """Broadcasts to segments of members: create, preview, send, approve, cancel, status."""


@broadcast.command("create")
@data_dir_option
@_AS
@click.option(
    "--segment",
    required=True,
    help=f"Who gets it, e.g. 'sector=diagnostics country=DE,DK', or 'all'. Fields: "
    f"{VALID_FIELDS}.",
)
@click.option("--text", required=True, help="The message.")
@click.option("--button", "buttons", multiple=True, metavar="LABEL=URL", help="A link button.")
@click.option("--at", "send_at", metavar="YYYY-MM-DDTHH:MM", help="Send then (cluster time).")
def broadcast_create(
    data_dir: Path | None,
    name: str | None,
    segment: str,
    text: str,
    buttons: tuple[str, ...],
    send_at: str | None,
) -> None:
    """Save a draft and show who it reaches and what they will see (nothing is sent)."""

    async def body(app: App) -> None:
        spec = f"{segment} at={send_at}" if send_at else segment
        chosen, when_ = parse_segment(spec, timezone=app.settings.timezone)
        request = Request(chosen, check_text(text), parse_buttons(buttons), when_)
        found = await create(app.sessions, request, author=_actor(name), author_id=None)
        _echo_preview(found, app)

    run(with_app(data_dir, None, body, quiet=True))


@broadcast.command("preview")
@data_dir_option
@click.argument("broadcast_id", type=int)
def broadcast_preview(data_dir: Path | None, broadcast_id: int) -> None:
    """Show who a broadcast reaches now and how it looks on each platform."""

    async def body(app: App) -> None:
        _echo_preview(await preview(app.sessions, broadcast_id), app)

    run(with_app(data_dir, None, body, quiet=True))


@broadcast.command("send")
@data_dir_option
@_AS
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.argument("broadcast_id", type=int)
def broadcast_send(data_dir: Path | None, name: str | None, yes: bool, broadcast_id: int) -> None:
    """Confirm a draft: queue it (or pass it on for approval when that rule is on)."""

    async def body(app: App) -> None:
        found = await preview(app.sessions, broadcast_id)
        if not yes:
            click.confirm(
                f"Send broadcast #{broadcast_id} to {reach_line(found.counts)}?", abort=True
            )
        view = await confirm(app.sessions, broadcast_id, actor=_actor(name), actor_id=None)
        _echo_sent(view, app)

    run(with_app(data_dir, None, body, quiet=True))


@broadcast.command("approve")
@data_dir_option
@_AS
@click.argument("broadcast_id", type=int)
def broadcast_approve(data_dir: Path | None, name: str | None, broadcast_id: int) -> None:
    """Approve someone else's broadcast, which queues it."""

    async def body(app: App) -> None:
        view = await approve(app.sessions, broadcast_id, actor=_actor(name), actor_id=None)
        _echo_sent(view, app)

    run(with_app(data_dir, None, body, quiet=True))


@broadcast.command("cancel")
@data_dir_option
@_AS
@click.argument("broadcast_id", type=int)
def broadcast_cancel(data_dir: Path | None, name: str | None, broadcast_id: int) -> None:
    """Cancel a broadcast; messages already sent stay sent."""

    async def body(app: App) -> None:
        view, stopped = await cancel(app.sessions, broadcast_id, actor=_actor(name))
        click.echo(f"Broadcast #{view.id} is cancelled; {stopped} unsent messages stopped.")

    run(with_app(data_dir, None, body, quiet=True))


@broadcast.command("status")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for tools).")
@click.argument("broadcast_id", type=int)
def broadcast_status(data_dir: Path | None, as_json: bool, broadcast_id: int) -> None:
    """Live figures: queued, sent, pending, failed, blocked, skipped, cancelled, presses."""

    async def body(app: App) -> None:
        view, found = await status(app.sessions, broadcast_id)
        if not as_json:
            click.echo(figures_text(view, found))
            return
        record = {
            "id": view.id,
            "status": view.status,
            "segment": view.segment,
            "queued": found.queued,
            "sent": found.sent,
            "pending": found.pending,
            "failed": found.failed,
            "blocked": found.blocked,
            "skipped": found.skipped,
            "cancelled": found.cancelled,
            "by_channel": found.by_channel,
            "presses": found.presses,
            "presses_total": found.presses_total,
            "pressed_by": found.pressed_by,
        }
        click.echo(json.dumps(record, ensure_ascii=False))

    run(with_app(data_dir, None, body, quiet=True))


@broadcast.command("list")
@data_dir_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
def broadcast_list(data_dir: Path | None, limit: int) -> None:
    """The latest broadcasts: number, status, recipients, text."""

    async def body(app: App) -> None:
        views = await recent(app.sessions, limit=limit)
        if not views:
            click.echo("no broadcasts yet")
        for view in views:
            click.echo(list_line(view))

    run(with_app(data_dir, None, body, quiet=True))


@broadcast.command("approval")
@data_dir_option
@_AS
@click.argument("rule", type=click.Choice(["on", "off", "show"]), default="show")
def broadcast_approval(data_dir: Path | None, name: str | None, rule: str) -> None:
    """Require a second staff member's approval for new broadcasts (on/off), or show it."""

    async def body(app: App) -> None:
        if rule != "show":
            await set_approval(app.sessions, required=rule == "on", actor=_actor(name))
        on = await approval_rule(app.sessions)
        click.echo(
            "new broadcasts need a second staff member's approval"
            if on
            else "new broadcasts go out when their author sends them"
        )

    run(with_app(data_dir, None, body, quiet=True))


#: The groups and commands this module adds to ``clusterbot``.
COMMANDS: tuple[click.Command, ...] = (broadcast,)

__all__ = ["COMMANDS"]
