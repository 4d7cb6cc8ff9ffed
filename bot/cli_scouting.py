"""Staff commands for partner scouting: import the asset portfolio, follow requests.

``clusterbot assets import FILE [--source NAME]`` reads a CRM export (CSV or JSON);
``clusterbot assets list`` shows the portfolio (``--contacts`` adds contact details: this
is a staff tool); ``clusterbot scouting list|show|stage`` follows requests through the
funnel identified -> shortlisted -> introduced -> contract.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path

import click

from bot.app import App
from bot.cli_common import data_dir_option, run, with_app
from bot.scouting import candidate_status, describe_request, get_request, requests
from bot.scouting_intro import set_stage
from ingest.assets import ImportSummary, import_assets
from ingest.errors import IngestError
from storage.scouting import list_assets

#: The bundled fictional portfolio, imported on the demo's first start.
DEMO_PORTFOLIO = Path(__file__).resolve().parent / "demo_portfolio" / "portfolio.csv"
_STAGES = ("shortlisted", "introduced", "contract", "declined")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        return "cli"


async def import_demo_portfolio(app: App) -> ImportSummary:
    """Import the bundled demo portfolio (idempotent: a second run changes nothing)."""
    data = await asyncio.to_thread(DEMO_PORTFOLIO.read_bytes)
    return await import_assets(
        app.sessions, name=DEMO_PORTFOLIO.name, data=data, source="demo-portfolio", actor="demo"
    )


@click.group()
def assets() -> None:
    """The innovation-asset portfolio that partner scouting searches."""


@assets.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", help="Name the assets are kept under (default: the file name).")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows when some have errors.")
@data_dir_option
def assets_import(
    file: Path, source: str | None, skip_invalid: bool, data_dir: Path | None
) -> None:
    """Import a CRM export (CSV or JSON list); importing it again changes nothing."""
    failed = False
    data = file.read_bytes()

    async def body(app: App) -> None:
        nonlocal failed
        try:
            summary = await import_assets(
                app.sessions,
                name=file.name,
                data=data,
                source=source,
                actor=_actor(),
                skip_invalid=skip_invalid,
            )
        except IngestError as exc:
            raise click.ClickException(f"{file.name}: {exc}") from exc
        for error in summary.errors:
            click.echo(f"{file.name}: {error.line()}", err=True)
        click.echo(summary.line())
        failed = bool(summary.errors) and not skip_invalid

    run(with_app(data_dir, None, body, quiet=True))
    if failed:
        raise click.ClickException("nothing was imported; fix the rows above or --skip-invalid")


@assets.command("list")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per asset.")
@click.option("--contacts", is_flag=True, help="Include contact details (staff only).")
def assets_list(data_dir: Path | None, as_json: bool, contacts: bool) -> None:
    """The portfolio, by name."""

    async def body(app: App) -> None:
        async with app.sessions() as session:
            rows = await list_assets(session)
        if not rows and not as_json:
            click.echo("no assets imported yet")
        for a in rows:
            record = {
                "id": a.id,
                "source": a.source,
                "external_id": a.external_id,
                "name": a.name,
                "kind": a.kind,
                "owner": a.owner_name,
                "partner_type": a.partner_type,
                "technologies": a.technologies,
                "country": a.country,
                "region": a.region,
                "trl": a.trl,
                "url": a.url,
            }
            if contacts:
                record["contact"] = a.contact
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
                continue
            line = f"#{a.id:<4} {a.name} ({a.owner_name or '?'}, {a.partner_type or '?'}, "
            line += f"{a.country or '?'})"
            if contacts and a.contact:
                line += "  contact: " + ", ".join(str(v) for v in a.contact.values())
            click.echo(line)

    run(with_app(data_dir, None, body, quiet=True))


@click.group()
def scouting() -> None:
    """Scouting requests and their candidates."""


@scouting.command("list")
@data_dir_option
@click.option("--all", "show_all", is_flag=True, help="Closed requests too.")
def scouting_list(data_dir: Path | None, show_all: bool) -> None:
    """Requests, newest first, with how far their candidates got."""

    async def body(app: App) -> None:
        found = await requests(app.sessions, status=None if show_all else "open", limit=200)
        if not found:
            click.echo("no scouting requests" if show_all else "no open scouting requests")
        for view in found:
            stages: dict[str, int] = {}
            for c in view.candidates:
                stages[c.stage] = stages.get(c.stage, 0) + 1
            counts = ", ".join(f"{k} {v}" for k, v in sorted(stages.items())) or "no candidates"
            click.echo(
                f"#{view.id:<4} {view.created_at:%Y-%m-%d} {view.status:<6} "
                f"{view.technology[:50]} ({counts})"
            )

    run(with_app(data_dir, None, body, quiet=True))


@scouting.command("show")
@click.argument("request_id", type=int)
@data_dir_option
def scouting_show(request_id: int, data_dir: Path | None) -> None:
    """One request with every candidate and its stage."""

    async def body(app: App) -> None:
        view = await get_request(app.sessions, request_id)
        click.echo(describe_request(view, shown=len(view.candidates)))
        click.echo("")
        for c in view.candidates:
            click.echo(f"candidate #{c.id}: {candidate_status(c)}")

    run(with_app(data_dir, None, body, quiet=True))


@scouting.command("stage")
@click.argument("candidate_id", type=int)
@click.argument("stage", type=click.Choice(_STAGES))
@data_dir_option
def scouting_stage(candidate_id: int, stage: str, data_dir: Path | None) -> None:
    """Move a candidate: introduced records the counterpart's yes and shares contacts."""

    async def body(app: App) -> None:
        step = await set_stage(
            app.sessions, candidate_id=candidate_id, stage=stage, actor=_actor()
        )
        status = candidate_status(step.candidate)
        queued = f", {step.notified} message(s) queued" if step.notified else ""
        click.echo(f"candidate #{candidate_id} ({step.candidate.title}): {status}{queued}")

    run(with_app(data_dir, None, body, quiet=True))


COMMANDS: tuple[click.Command, ...] = (assets, scouting)

__all__ = ["COMMANDS", "DEMO_PORTFOLIO", "assets", "import_demo_portfolio", "scouting"]
