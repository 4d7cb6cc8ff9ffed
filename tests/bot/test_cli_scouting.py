"""``clusterbot assets`` and ``clusterbot scouting``: import, list, follow requests."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.cli_scouting import DEMO_PORTFOLIO, import_demo_portfolio
from bot.scouting import open_request
from bot.scouting_intro import ask_introduction
from knowledge.scouting import ScoutingQuery
from storage.models import Person
from tests.factories import TODAY, make_app


def test_import_then_reimport_then_list_without_and_with_contacts(tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--data-dir", str(tmp_path / "d")]
    first = runner.invoke(cli, ["assets", "import", str(DEMO_PORTFOLIO), *store])
    assert first.exit_code == 0, first.output
    assert "portfolio.csv: 15 added, 0 updated, 0 unchanged" in first.output
    again = runner.invoke(cli, ["assets", "import", str(DEMO_PORTFOLIO), *store])
    assert "0 added, 0 updated, 15 unchanged" in again.output
    listed = runner.invoke(cli, ["assets", "list", *store])
    assert "Liver-on-chip for drug-induced liver injury testing" in listed.output
    assert "@" not in listed.output
    rows = [
        json.loads(line)
        for line in runner.invoke(cli, ["assets", "list", "--json", "--contacts", *store])
        .output.strip()
        .splitlines()
    ]
    assert len(rows) == 15
    assert all(r["contact"]["email"].endswith(".example") for r in rows)


def test_a_bad_export_names_the_row_and_imports_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "crm.csv"
    bad.write_text("id,name,trl\n1,Good,3\n2,Bad,eleven\n")
    store = ["--data-dir", str(tmp_path / "d")]
    result = CliRunner().invoke(cli, ["assets", "import", str(bad), *store])
    assert result.exit_code == 1
    assert "crm.csv: row 3, column trl: 'eleven' is not a TRL from 1 to 9" in result.output
    assert "nothing was imported" in result.output
    listed = CliRunner().invoke(cli, ["assets", "list", *store])
    assert "no assets imported yet" in listed.output
    skipped = CliRunner().invoke(cli, ["assets", "import", "--skip-invalid", str(bad), *store])
    assert skipped.exit_code == 0
    assert "1 added" in skipped.output
    assert "(1 skipped)" in skipped.output
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    refused = CliRunner().invoke(cli, ["assets", "import", str(empty), *store])
    assert refused.exit_code == 1
    assert "empty.json: the export has no rows" in refused.output


def test_scouting_list_show_and_stage(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"

    async def seed() -> int:
        app = await make_app(data_dir)
        try:
            await import_demo_portfolio(app)
            async with app.sessions.begin() as session:
                person = Person(display_name="Ana")
                session.add(person)
            opened = await open_request(
                app.sessions,
                person_id=person.id,
                organisation_id=None,
                query=ScoutingQuery("fill-finish", region="Denmark"),
                today=TODAY,
                audiences=("public",),
                embedder=None,
            )
            candidate = opened.request.shortlist[0].id
            await ask_introduction(app.sessions, candidate_id=candidate, person_id=person.id)
            async with app.sessions() as session:
                assert await session.scalar(select(Person.id)) == person.id
            return candidate
        finally:
            await app.close()

    candidate = asyncio.run(seed())
    runner = CliRunner()
    store = ["--data-dir", str(data_dir)]
    listed = runner.invoke(cli, ["scouting", "list", *store])
    assert "fill-finish (shortlisted 1)" in listed.output, listed.output
    shown = runner.invoke(cli, ["scouting", "show", "1", *store])
    assert "Sterile fill-finish for small clinical batches" in shown.output
    assert f"candidate #{candidate}: introduction asked" in shown.output
    assert "nordfill.example" not in shown.output
    early = runner.invoke(cli, ["scouting", "stage", str(candidate), "contract", *store])
    assert early.exit_code == 1
    assert "a contract follows an introduction" in early.output
    done = runner.invoke(cli, ["scouting", "stage", str(candidate), "introduced", *store])
    assert done.exit_code == 0, done.output
    assert "introduced" in done.output
    signed = runner.invoke(cli, ["scouting", "stage", str(candidate), "contract", *store])
    assert "contract signed" in signed.output
    missing = runner.invoke(cli, ["scouting", "show", "9", *store])
    assert missing.exit_code == 1
    assert "no scouting request #9" in missing.output


def test_the_demo_imports_its_portfolio_on_first_start(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["chat", "--data-dir", str(tmp_path / "fresh"), "--today", "2026-11-28"],
        input="/scout organ-on-chip | any | Germany\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "demo-portfolio: 15 added" in result.stderr
    assert "1. Liver-on-chip for drug-induced liver injury testing" in result.stdout
    assert "uni-korvenstad.example" not in result.stdout
