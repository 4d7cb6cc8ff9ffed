"""``clusterbot events``: create, list and cancel staff meetings from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli

CREATE = [
    "events",
    "create",
    "--today",
    "2026-11-28",
    "--title",
    "Regulatory Affairs Roundtable",
    "--start",
    "2026-12-15 16:00",
    "--end",
    "18:30",
    "--location",
    "online",
    "--description",
    "MDR transition questions from members, answered by two notified-body auditors.",
]


def _run(demo_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(demo_dir)])
    if result.exit_code and result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_create_list_and_cancel_a_meeting(demo_dir: Path) -> None:
    code, out = _run(demo_dir, *CREATE)
    assert code == 0, out
    assert "created meeting #" in out
    assert "2026-12-15 16:00–18:30 Europe/Berlin, online" in out
    assert "alerts:" in out

    code, out = _run(demo_dir, "events", "list", "--today", "2026-11-28", "--json")
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines()]
    mine = [r for r in rows if r["origin"] == "staff"]
    assert [r["title"] for r in mine] == ["Regulatory Affairs Roundtable"]
    assert mine[0]["starts_at"] == "2026-12-15T16:00+01:00"
    assert any(r["origin"] == "calendar" for r in rows)

    code, out = _run(
        demo_dir, "opportunities", "--json", "--kind", "event", "--today", "2026-11-28"
    )
    records = [json.loads(line) for line in out.splitlines()]
    (record,) = [r for r in records if r["id"] == mine[0]["uid"]]
    assert record["kind"] == "event"
    assert record["deadlines"] == ["2026-12-15"]

    code, out = _run(demo_dir, "events", "cancel", str(mine[0]["id"]), "--reason", "Moved.")
    assert code == 0, out
    assert "cancelled Regulatory Affairs Roundtable; 0 notice(s) queued" in out
    code, out = _run(demo_dir, "events", "list", "--today", "2026-11-28")
    assert "Regulatory Affairs Roundtable" not in out
    code, out = _run(demo_dir, "events", "list", "--today", "2026-11-28", "--all", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    (cancelled,) = [r for r in listed if r["uid"] == mine[0]["uid"]]
    assert cancelled["title"] == "Cancelled: Regulatory Affairs Roundtable"
    assert cancelled["cancelled"] is True
    code, out = _run(demo_dir, "events", "cancel", cancelled["uid"])
    assert code == 1
    assert "is cancelled already" in out

    code, out = _run(demo_dir, "audit", "--json")
    actions = [json.loads(line)["action"] for line in out.splitlines()]
    assert actions.count("event.create") == 1
    assert actions.count("event.cancel") == 1


def test_bad_options_name_what_is_wrong_and_create_nothing(demo_dir: Path) -> None:
    bad = {
        ("--start", "15.12.2026 16:00"): "The start “15.12.2026 16:00” should look like",
        ("--end", "15:00"): "The end is not after the start.",
        ("--start", "2026-11-01 16:00"): "The date 2026-11-01 is in the past.",
        ("--title", "  "): "The title is missing.",
    }
    for (option, value), expected in bad.items():
        args = list(CREATE)
        args[args.index(option) + 1] = value
        code, out = _run(demo_dir, *args)
        assert code == 1, out
        assert expected in out
    code, out = _run(demo_dir, "events", "list", "--today", "2026-11-28", "--json")
    assert all(json.loads(line)["origin"] == "calendar" for line in out.splitlines())


def test_only_staff_meetings_can_be_cancelled(demo_dir: Path) -> None:
    code, out = _run(demo_dir, "events", "list", "--today", "2026-11-28", "--json")
    calendar_event = json.loads(out.splitlines()[0])
    code, out = _run(demo_dir, "events", "cancel", str(calendar_event["id"]))
    assert code == 1
    assert "comes from an ingested calendar" in out
    code, out = _run(demo_dir, "events", "cancel", "staff-20261215-nothere")
    assert code == 1
    assert "There is no meeting 'staff-20261215-nothere'" in out
