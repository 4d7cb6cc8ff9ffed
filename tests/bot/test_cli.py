"""The console commands, through click's runner: stable JSON shapes and clear errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli, demo_on_first_start
from bot.cli_scouting import DEMO_PORTFOLIO
from storage.models import Asset, AuditEntry, Document
from tests.factories import make_app
from tests.pg import sqlite_only

ASK_KEYS = {"question", "answer", "abstained", "citations"}
CITATION_KEYS = {"n", "title", "source", "record_id", "text", "score"}
OPPORTUNITY_KEYS = {
    "id",
    "kind",
    "title",
    "programme",
    "type_of_action",
    "status",
    "status_today",
    "opening_date",
    "deadlines",
    "two_stage",
    "budget_total_eur",
    "budget_per_project_eur",
    "countries",
    "org_types",
    "url",
    "source",
}


def test_ask_json_reads_one_question_per_line(demo_dir: Path) -> None:
    stdin = "What does the Launchpad incubator offer?\n\nWhat is the price of a Tesla in Peru?\n"
    result = CliRunner().invoke(
        cli,
        ["ask", "--json", "--data-dir", str(demo_dir), "--today", "2026-11-28", "-"],
        input=stdin,
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert set(first) >= ASK_KEYS
    assert first["abstained"] is False
    assert first["citations"]
    for citation in first["citations"]:
        assert set(citation) >= CITATION_KEYS
    assert any(c["record_id"] == "KBR-LAUNCHPAD-2027" for c in first["citations"])
    assert second["abstained"] is True
    assert second["citations"] == []


def test_ask_plain_text_lists_sources(demo_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "ask",
            "--data-dir",
            str(demo_dir),
            "What",
            "does",
            "the",
            "Launchpad",
            "incubator",
            "offer?",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Sources:" in result.output


def test_opportunities_json_has_the_stable_fields(demo_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["opportunities", "--json", "--data-dir", str(demo_dir), "--today", "2026-11-28"]
    )
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    for record in records.values():
        assert set(record) >= OPPORTUNITY_KEYS
    ipv = records["KBR-IPV-2026"]
    assert ipv["status_today"] == "closed"
    assert ipv["deadlines"] == ["2026-10-15"]
    assert ipv["budget_per_project_eur"] == {"min": 5000, "max": 15000}
    assert ipv["budget_total_eur"] == 200000
    scale = records["KBR-SCALE-2027"]
    assert scale["two_stage"] is True
    assert scale["deadlines"] == ["2027-02-26", "2027-06-18"]
    assert records["KBR-GREEN-2027"]["status_today"] == "forthcoming"
    assert any(r["kind"] == "event" for r in records.values())


def test_opportunities_status_follows_today(demo_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["opportunities", "--json", "--data-dir", str(demo_dir), "--today", "2026-09-01"]
    )
    records = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert records["KBR-IPV-2026"]["status_today"] == "open"


def test_ingest_reports_summary_and_fails_on_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "offer.md"
    good.write_text(
        "---\nid: OFF-1\nkind: incubator_offer\ntitle: Desk space\n---\n# Desk space\nDesks for start-ups."
    )
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = CliRunner().invoke(
        cli, ["ingest", "--data-dir", str(tmp_path / "d"), str(good), str(empty)]
    )
    assert result.exit_code == 1
    assert "1 added" in result.stdout
    assert "1 failed" in result.stdout
    assert f"error: {empty}" in result.stderr
    again = CliRunner().invoke(cli, ["ingest", "--data-dir", str(tmp_path / "d"), str(good)])
    assert again.exit_code == 0
    assert "1 unchanged" in again.stdout


def test_bad_today_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["ask", "--data-dir", str(tmp_path), "--today", "28/11/2026", "hi"]
    )
    assert result.exit_code != 0
    assert "--today" in result.output


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["db", "upgrade", "--data-dir", str(tmp_path)])
    second = runner.invoke(cli, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert "database upgraded" in first.output
    assert "already up to date" in second.output


@sqlite_only
def test_data_dir_from_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLUSTERBOT_DATA_DIR", str(tmp_path / "envdir"))
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0
    assert (tmp_path / "envdir" / "clusterbot.sqlite3").exists()


def test_chat_ingests_demo_on_first_start_and_answers(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["chat", "--data-dir", str(tmp_path / "fresh"), "--today", "2026-11-28"],
        input="/help\nWhen is the Investor Day?\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "First start: ingesting the demo corpus" in result.stderr
    assert "Commands:" in result.stdout
    assert "Sources:" in result.stdout
    audit = CliRunner().invoke(cli, ["audit", "--json", "--data-dir", str(tmp_path / "fresh")])
    entries = [json.loads(line) for line in audit.stdout.splitlines()]
    assert [(e["actor"], e["action"]) for e in entries if e["action"] == "ingest"] == [
        ("first-start", "ingest")
    ]


async def test_processes_starting_together_ingest_the_demo_once(tmp_path: Path) -> None:
    apps = [await make_app(tmp_path / "together") for _ in range(2)]
    try:
        await asyncio.gather(*(demo_on_first_start(app) for app in apps))
        async with apps[0].sessions() as session:
            documents = await session.scalar(select(func.count()).select_from(Document))
            assets = await session.scalar(select(func.count()).select_from(Asset))
            ingests = await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "ingest")
            )
    finally:
        for app in apps:
            await app.close()
    assert ingests == 1  # one process ingested; the other waited, looked again, found it done
    assert documents
    assert assets == len(DEMO_PORTFOLIO.read_text().splitlines()) - 1


def test_ask_kind_filter_limits_sources(demo_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "ask",
            "--json",
            "--data-dir",
            str(demo_dir),
            "--kind",
            "event",
            "What happens at the microbiome network?",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["citations"]
    assert all(c["record_id"] and "@" in c["record_id"] for c in answer["citations"])


def test_ask_on_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ask", "--data-dir", str(tmp_path / "empty"), "any calls?"])
    assert result.exit_code == 0
    assert "nothing has been ingested" in result.stderr
    assert "reliable answer" in result.stdout


def test_bare_command_chats_when_no_token_is_set(demo_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLUSTERBOT_DATA_DIR", str(demo_dir))
    result = CliRunner().invoke(cli, [], input="/help\n/quit\n")
    assert result.exit_code == 0, result.output
    assert "Commands:" in result.stdout


def test_serve_without_a_token_names_the_settings(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "CLUSTERBOT_TELEGRAM_TOKEN" in result.output
    assert "CLUSTERBOT_SLACK_BOT_TOKEN" in result.output


@sqlite_only
def test_settings_come_from_a_dotenv_file(tmp_path: Path) -> None:
    # The autouse fixture made tmp_path the working directory.
    (tmp_path / ".env").write_text(f"CLUSTERBOT_DATA_DIR={tmp_path / 'from-dotenv'}\n")
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-dotenv" / "clusterbot.sqlite3").exists()


def test_a_malformed_staff_setting_is_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLUSTERBOT_STAFF", "telegram:1,bob")
    result = CliRunner().invoke(cli, ["db", "upgrade", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "'bob' is not a person like telegram:123456" in result.output


def test_org_and_people_commands(demo_dir: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["org", "list", "--data-dir", str(demo_dir)])
    assert listed.exit_code == 0, listed.output
    assert "no organisations yet" in listed.stdout
    missing = runner.invoke(cli, ["org", "confirm", "--data-dir", str(demo_dir), "Nobody"])
    assert missing.exit_code == 1
    assert "no organisation is called 'Nobody'" in missing.output
    role = runner.invoke(
        cli, ["people", "role", "--data-dir", str(demo_dir), "telegram:42", "staff"]
    )
    assert role.exit_code == 1
    assert "has not written to the bot yet" in role.output


def test_alerts_plan_and_stats(demo_dir: Path) -> None:
    runner = CliRunner()
    planned = runner.invoke(cli, ["alerts", "plan", "--data-dir", str(demo_dir)])
    assert planned.exit_code == 0, planned.output
    assert "0 recipients" in planned.stdout
    stats = runner.invoke(cli, ["alerts", "stats", "--data-dir", str(demo_dir)])
    assert stats.exit_code == 0, stats.output
    assert "no alerts sent yet" in stats.stdout


def test_match_json_has_the_stable_fields(demo_dir: Path, tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(
        json.dumps(
            {
                "name": "Acme Diagnostics",
                "description": "Point-of-care sepsis test from a drop of blood",
                "sectors": ["diagnostics"],
                "therapeutic_areas": ["sepsis"],
                "technologies": ["biomarkers", "point-of-care"],
                "stage": "prototype",
                "trl": 5,
                "country": "DE",
                "org_type": "SME",
                "funding_interest": ["grant", "partners"],
            }
        )
    )
    result = CliRunner().invoke(
        cli,
        [
            *("match", "--json", "--profile", str(profile), "--data-dir", str(demo_dir)),
            *("--today", "2026-11-28", "--limit", "3"),
        ],
    )
    assert result.exit_code == 0, result.output
    matches = json.loads(result.stdout)["matches"]
    assert 0 < len(matches) <= 3
    for match in matches:
        assert {"opportunity_id", "title", "score", "status", "deadlines", "reasons"} <= set(match)
        assert match["status"] in ("open", "forthcoming")
        assert all(isinstance(r, str) for r in match["reasons"])
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)


def test_match_names_what_is_wrong_with_a_profile(demo_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "Acme", "trl": 12}')
    result = CliRunner().invoke(
        cli, ["match", "--profile", str(broken), "--data-dir", str(demo_dir)]
    )
    assert result.exit_code == 1
    assert "trl" in result.output
    assert "Traceback" not in result.output
    not_json = tmp_path / "not.json"
    not_json.write_text("{name: Acme")
    result = CliRunner().invoke(
        cli, ["match", "--profile", str(not_json), "--data-dir", str(demo_dir)]
    )
    assert result.exit_code == 1
    assert "line 1" in result.output


NEW_CALL = """id,kind,title,programme,type_of_action,status,opening_date,deadlines,two_stage,budget_total_eur,budget_min_eur,budget_max_eur,countries,org_types,keywords,url,sme_only,location,description
KBR-SEPSIS-2027,funding_call,Point-of-care sepsis diagnostics with host-response biomarkers,Korvenmark Innovation Vouchers,Grant,open,2026-11-20,2027-04-15,false,500000,50000,100000,DE,SME,sepsis;biomarkers;point-of-care;diagnostics,https://korvenmark-bio.example/funding/sepsis-2027,true,Korvenmark region,"Grants for SMEs that develop point-of-care diagnostic tests for sepsis based on host-response biomarkers, from prototype to clinical validation."
"""


def test_ingesting_a_new_call_plans_alerts_for_the_profiles_it_fits(
    demo_dir: Path, tmp_path: Path
) -> None:
    import asyncio

    from tests.bot.chat import Chat, onboard
    from tests.factories import make_app

    async def sign_up() -> None:
        app = await make_app(demo_dir)
        try:
            await onboard(Chat(app.assistant, channel="telegram", user="5", chat="5"))
            await app.planner().plan()  # what exists already is planned first
        finally:
            await app.close()

    asyncio.run(sign_up())
    calls = tmp_path / "new-calls.csv"
    calls.write_text(NEW_CALL)
    result = CliRunner().invoke(cli, ["ingest", "--data-dir", str(demo_dir), str(calls)])
    assert result.exit_code == 0, result.output
    assert "alerts: 1 new or changed opportunities, 1 recipients: 1 alerts (1 now" in result.stdout
