"""``clusterbot broadcast``: the same steps as in a chat, from a terminal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from bot.config import Settings
from storage import create_engine, session_factory
from storage.models import Identity, Organisation, Person, Subscription


def add_members(data_dir: Path) -> None:
    """Two Danish members, one on Telegram and one on Slack, who agreed to announcements."""

    async def body() -> None:
        engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
        sessions = session_factory(engine)
        try:
            async with sessions.begin() as session:
                org = Organisation(
                    name="Nordic Dx", join_code="NORD-DX01", country="DK", sectors=["Diagnostics"]
                )
                session.add(org)
                await session.flush()
                for channel, chat in (("telegram", "501"), ("slack", "D0NORD")):
                    person = Person(organisation_id=org.id)
                    session.add(person)
                    await session.flush()
                    session.add(
                        Identity(
                            person_id=person.id, channel=channel, external_id=chat, chat_id=chat
                        )
                    )
                    session.add(Subscription(person_id=person.id, category="news"))
        finally:
            await engine.dispose()

    asyncio.run(body())


def test_create_preview_send_status_and_cancel(demo_dir: Path) -> None:
    add_members(demo_dir)
    runner = CliRunner()
    where = ["--data-dir", str(demo_dir)]
    created = runner.invoke(
        cli,
        [
            "broadcast",
            "create",
            *where,
            "--as",
            "ann",
            "--segment",
            "country=Denmark",
            "--text",
            "Matchmaking <b>day</b> & lunch",
            "--button",
            "Register=https://example.org/r",
        ],
    )
    assert created.exit_code == 0, created.output
    assert "Draft #1 reaches 2 people (slack 1, telegram 1)." in created.output
    assert "To: country=DK" in created.output
    assert "--- Telegram (HTML) ---\nMatchmaking &lt;b&gt;day&lt;/b&gt; &amp; lunch" in (
        created.output
    )
    assert '"callback_data": "bcpress|1:0"' in created.output
    assert "--- Slack (Block Kit) ---" in created.output
    assert '"text": "Matchmaking &lt;b&gt;day&lt;/b&gt; &amp; lunch' in created.output

    refused = runner.invoke(cli, ["broadcast", "send", *where, "1"], input="n\n")
    assert refused.exit_code == 1
    assert "Send broadcast #1 to 2 people (slack 1, telegram 1)?" in refused.output

    sent = runner.invoke(cli, ["broadcast", "send", *where, "--as", "ann", "--yes", "1"])
    assert sent.exit_code == 0, sent.output
    assert "Broadcast #1 is queued for 2 people" in sent.output

    shown = runner.invoke(cli, ["broadcast", "status", *where, "--json", "1"])
    record = json.loads(shown.output)
    assert (record["status"], record["queued"], record["pending"], record["sent"]) == (
        "queued",
        2,
        2,
        0,
    )
    assert record["by_channel"] == {"slack": 1, "telegram": 1}
    assert (
        "Queued 2 · sent 0 · pending 2"
        in runner.invoke(cli, ["broadcast", "status", *where, "1"]).output
    )

    cancelled = runner.invoke(cli, ["broadcast", "cancel", *where, "--as", "bob", "1"])
    assert "Broadcast #1 is cancelled; 2 unsent messages stopped." in cancelled.output
    listed = runner.invoke(cli, ["broadcast", "list", *where])
    assert "#1 cancelled · 2 · “Matchmaking <b>day</b> & lunch”" in listed.output
    audit = runner.invoke(cli, ["audit", *where])
    for action in ("broadcast.create", "broadcast.confirm", "broadcast.cancel"):
        assert action in audit.output


def test_approval_needs_someone_else_and_errors_are_clean(demo_dir: Path) -> None:
    add_members(demo_dir)
    runner = CliRunner()
    where = ["--data-dir", str(demo_dir)]
    assert (
        "go out when their author sends them"
        in runner.invoke(cli, ["broadcast", "approval", *where]).output
    )
    turned = runner.invoke(cli, ["broadcast", "approval", *where, "--as", "admin", "on"])
    assert "need a second staff member's approval" in turned.output
    runner.invoke(
        cli, ["broadcast", "create", *where, "--as", "ann", "--segment", "all", "--text", "Hi"]
    )
    sent = runner.invoke(cli, ["broadcast", "send", *where, "--as", "ann", "--yes", "1"])
    assert "waits for approval" in sent.output
    own = runner.invoke(cli, ["broadcast", "approve", *where, "--as", "ann", "1"])
    assert own.exit_code == 1
    assert "someone else on the team has to approve it" in own.output
    other = runner.invoke(cli, ["broadcast", "approve", *where, "--as", "bob", "1"])
    assert "Broadcast #1 is queued for 2 people" in other.output

    bad = runner.invoke(
        cli, ["broadcast", "create", *where, "--segment", "colour=blue", "--text", "Hi"]
    )
    assert bad.exit_code == 1
    assert "'colour' is not a segment field" in bad.output
    assert "Traceback" not in bad.output
    missing = runner.invoke(cli, ["broadcast", "status", *where, "7"])
    assert "There is no broadcast #7" in missing.output
    assert "no broadcasts yet" not in runner.invoke(cli, ["broadcast", "list", *where]).output


def test_org_set_gives_tiers_and_networks_that_segments_use(demo_dir: Path) -> None:
    add_members(demo_dir)
    runner = CliRunner()
    where = ["--data-dir", str(demo_dir)]
    done = runner.invoke(
        cli,
        ["org", "set", *where, "Nordic Dx", "--tier", "Full", "--network", "Digital Health"],
    )
    assert done.exit_code == 0, done.output
    assert "Nordic Dx: updated" in done.output
    created = runner.invoke(
        cli,
        [
            "broadcast",
            "create",
            *where,
            "--segment",
            "tier=full network=digital health",
            "--text",
            "For full members",
        ],
    )
    assert "Draft #1 reaches 2 people" in created.output
    cleared = runner.invoke(cli, ["org", "set", *where, "Nordic Dx", "--no-networks"])
    assert cleared.exit_code == 0, cleared.output
    again = runner.invoke(cli, ["broadcast", "preview", *where, "1"])
    assert "Draft #1 reaches 0 people." in again.output
    missing = runner.invoke(cli, ["org", "set", *where, "Nobody", "--tier", "full"])
    assert missing.exit_code == 1
    assert "no organisation is called 'Nobody'" in missing.output
    nothing = runner.invoke(cli, ["org", "set", *where, "Nordic Dx"])
    assert nothing.exit_code == 2
    assert "give --tier, --network or --no-networks" in nothing.output
    assert "organisation_segments_set" in runner.invoke(cli, ["audit", *where]).output
