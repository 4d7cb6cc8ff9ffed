"""The impact report and the audit log, from records the real app made."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import struct
import zlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.admin import set_segments
from bot.alerts import AlertPlanner
from bot.app import App
from bot.cli import cli
from bot.config import AlertSettings
from bot.messages import reply_from_data
from bot.report import (
    CONTRACTS_NOTE,
    ImpactReport,
    build_report,
    render_csv,
    render_markdown,
    render_png,
    safe_target,
    window,
)
from bot.report_png import BAR, bar_chart
from knowledge.match import Matcher
from storage.models import Alert, Delivery, Organisation, Person
from storage.outbox import Outcome, claim, record
from tests.bot.chat import Chat, onboard
from tests.factories import make_app

SATURDAY_NOON = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
EVENT_DAY = date(2026, 12, 9)  # Digital Health Network, the first of /events


class Clock:
    def now(self) -> datetime:
        return SATURDAY_NOON

    def today(self) -> date:
        return SATURDAY_NOON.date()


def main_window() -> tuple[date, date]:
    # Planner and outbox run on the test clock; questions, RSVPs and feedback are stamped now.
    today = datetime.now(UTC).date()
    return min(today, SATURDAY_NOON.date()), max(today, SATURDAY_NOON.date())


async def _send(
    app: App, person_id: int, *, at: datetime, status: str = "sent", limit: int = 100
) -> int:
    """Claim one person's due alert-like deliveries and record up to ``limit`` of them."""
    async with app.sessions.begin() as session:
        claimed = await claim(session, owner="t", now=SATURDAY_NOON, lease_s=60, limit=100)
        mine = [d for d in claimed if d.person_id == person_id and d.kind != "reminder"][:limit]
        done = {d.id for d in mine}
        outcomes = [Outcome(d.id, status, 1, message_id="m") for d in mine]  # type: ignore[arg-type]
        others = [Outcome(d.id, "pending", 0) for d in claimed if d.id not in done]
        await record(session, outcomes + others, owner="t", now=at)
    return len(mine)


async def _people(app: App) -> dict[str, int]:
    ann = Chat(app.assistant, channel="telegram", user="5", chat="5")
    bob = Chat(app.assistant, channel="telegram", user="6", chat="6")
    await onboard(ann)
    await onboard(bob, org_type="University")
    await ann.say("What does the Launchpad incubator offer?")
    await ann.tap("👍")
    await bob.say("What is the price of a Tesla in Peru?")
    await bob.tap("👎")
    await ann.say("/events")
    await ann.tap("RSVP 1")
    planner = AlertPlanner(
        sessions=app.sessions,
        matcher=Matcher(sessions=app.sessions, index=app.index),
        clock=Clock(),
        settings=AlertSettings(instant_score=0.2),  # every match at once
        timezone="Europe/Berlin",
    )
    planned = await planner.plan()
    async with app.sessions() as session:
        alerts = list(await session.scalars(select(Alert).order_by(Alert.id)))
    ann_id = next(a.person_id for a in alerts)
    bob_id = next(a.person_id for a in alerts if a.person_id != ann_id)
    # Ann's first message fails and the rest go out in the window; Bob's goes out in October.
    ann_failed = await _send(app, ann_id, at=SATURDAY_NOON, status="failed", limit=1)
    ann_sent = await _send(app, ann_id, at=SATURDAY_NOON)
    bob_sent = await _send(app, bob_id, at=OCTOBER)
    # Ann applies for her first alert and finds it relevant; Bob finds his not for him.
    async with app.sessions() as session:
        first = list(
            await session.scalars(
                select(Delivery).where(Delivery.kind == "alert").order_by(Delivery.id)
            )
        )
    ann_alert = next(d for d in first if d.person_id == ann_id)
    bob_alert = next(d for d in first if d.person_id == bob_id)
    ann_reply = reply_from_data(ann_alert.payload)
    await ann.tap("I'm applying", ann_reply)
    await ann.tap("Relevant", ann_reply)
    await bob.tap("Not for us", reply_from_data(bob_alert.payload))
    return {
        "alerts": planned.alerts,
        "instant": planned.instant,
        "ann_sent": ann_sent,
        "ann_failed": ann_failed,
        "bob_sent": bob_sent,
    }


async def test_report_counts_what_the_app_recorded_in_the_window(demo_dir: Path) -> None:
    app = await make_app(demo_dir)
    try:
        made = await _people(app)
        assert made["ann_sent"] > 0
        assert made["ann_failed"] == made["bob_sent"] == 1
        async with app.sessions() as session:
            orgs = {o.org_type: o.id for o in await session.scalars(select(Organisation))}
        for org_type, networks in (
            ("sme", ["Digital Health", "Oncology"]),
            ("university", ["Oncology"]),
        ):
            await set_segments(
                app.sessions, str(orgs[org_type]), tier=None, networks=networks, actor="test"
            )
        report = await build_report(app.sessions, *main_window())
    finally:
        await app.close()
    assert report.forwarded.alerts == made["ann_sent"]
    assert (report.forwarded.updates, report.forwarded.digests) == (0, 0)
    assert report.forwarded.total == made["ann_sent"]
    assert report.organisations_by_type == {"sme": 1, "university": 1}
    assert report.organisations_by_country == {"DE": 2}
    assert (report.organisations, report.people) == (2, 2)
    assert report.organisations_by_network == {"Digital Health": 1, "Oncology": 2}
    assert (report.funnel.identified, report.funnel.shortlisted, report.funnel.applying) == (
        made["alerts"],
        1,
        1,
    )
    q = report.questions
    assert (q.asked, q.answered, q.abstained, q.thumbs_up, q.thumbs_down) == (2, 1, 1, 1, 1)
    (funding,) = report.precision
    assert funding.category == "funding"
    assert funding.sent == made["instant"]  # the alerts rows: sent at planning time
    assert (funding.answered, funding.relevant, funding.not_for_us) == (2, 1, 1)
    assert funding.precision == 0.5
    figures = {(f.section, f.figure): f.value for f in report.figures()}
    assert figures[("engagement", "SMEs and start-ups")] == 1
    assert figures[("engagement", "research institutions")] == 1
    assert figures[("engagement", "other organisations")] == 0
    assert figures[("funnel", "contracts")] == 0  # no scouting in this store
    assert figures[("networks", "networks involved")] == 2
    assert figures[("networks", "organisations in the Oncology network")] == 2
    assert figures[("alert funnel", "alerts matched")] == made["alerts"]
    assert figures[("alert funnel", "applications")] == 1
    assert figures[("alert precision", "funding: precision")] == 0.5
    assert CONTRACTS_NOTE in report.notes


async def test_the_window_leaves_out_what_happened_outside_it(demo_dir: Path) -> None:
    app = await make_app(demo_dir)
    try:
        await _people(app)
        october = await build_report(app.sessions, date(2026, 10, 1), date(2026, 10, 1))
        meeting_day = await build_report(app.sessions, EVENT_DAY, EVENT_DAY)
        async with app.sessions() as session:
            bob_org = await session.scalar(
                select(Organisation).where(Organisation.org_type == "university")
            )
    finally:
        await app.close()
    assert bob_org is not None
    # Only Bob's message, sent on 1 October.
    assert (october.forwarded.alerts, october.forwarded.total) == (1, 1)
    assert (october.people, october.organisations_by_type) == (1, {"university": 1})
    assert october.funnel.identified == 0
    assert october.questions.asked == 0
    assert october.precision == []
    assert october.meetings == []
    # On the meeting's day: the meeting and Ann's RSVP, nothing else.
    assert [(m.starts_at.date(), m.going) for m in meeting_day.meetings][:1] == [(EVENT_DAY, 1)]
    assert sum(m.going for m in meeting_day.meetings) == 1
    assert meeting_day.forwarded.total == 0
    assert meeting_day.people == 0


async def test_the_scouting_funnel_counts_requests_introductions_and_contracts(
    demo_dir: Path,
) -> None:
    from bot.cli_scouting import import_demo_portfolio
    from bot.scouting import open_request
    from bot.scouting_intro import ask_introduction, introduce, mark_contract, record_acceptance
    from knowledge.scouting import ScoutingQuery

    app = await make_app(demo_dir)
    try:
        await import_demo_portfolio(app)
        chat = Chat(app.assistant)
        await onboard(chat)
        async with app.sessions() as session:
            org = await session.scalar(select(Organisation))
            assert org is not None
            person = await session.scalar(select(Person).where(Person.organisation_id == org.id))
            assert person is not None
        opened = await open_request(
            app.sessions,
            person_id=person.id,
            organisation_id=org.id,
            query=ScoutingQuery("organ-on-chip"),
            today=SATURDAY_NOON.date(),
            audiences=("public",),
            embedder=app.index.embedder,
        )
        first, second = opened.request.shortlist[:2]
        for candidate in (first, second):
            await ask_introduction(app.sessions, candidate_id=candidate.id, person_id=person.id)
            await introduce(app.sessions, candidate_id=candidate.id, actor="test")
            await record_acceptance(app.sessions, candidate_id=candidate.id, actor="test")
        await mark_contract(app.sessions, candidate_id=first.id, actor="test")
        report = await build_report(app.sessions, *main_window())
        before = await build_report(app.sessions, date(2026, 10, 1), date(2026, 10, 1))
    finally:
        await app.close()
    figures = {(f.section, f.figure): f.value for f in report.figures()}
    assert figures[("funnel", "scouting requests")] == 1
    assert figures[("funnel", "opportunities identified")] == opened.identified
    assert figures[("funnel", "opportunities shortlisted")] == len(opened.request.shortlist)
    assert figures[("funnel", "introductions")] == 2
    assert figures[("funnel", "contracts")] == 1
    assert ("Contracts", 1) in report.main_figures()
    assert "| contracts | 1 |" in render_markdown(report)
    assert before.scouting.contracts == before.scouting.identified == 0


def _report(**numbers: int) -> ImpactReport:
    from storage.report import Forwarded, Funnel, Meeting, QuestionStats

    return ImpactReport(
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        forwarded=Forwarded(3, 1, 1, 4),
        organisations_by_type={"sme": 2, "start-up": 1, "university": 1, "unknown": 1},
        organisations_by_country={"DE": 4, "unknown": 1},
        organisations_by_network={"Oncology": 3},
        people=7,
        funnel=Funnel(12, 5, 2),
        meetings=[Meeting(1, "Digital | Health", datetime(2026, 11, 9, 9, tzinfo=UTC), 6)],
        questions=QuestionStats(9, 2, 4, 1),
        precision=[],
    )


def test_markdown_has_a_table_per_section_and_the_contracts_note() -> None:
    text = render_markdown(_report())
    assert text.startswith("# Impact report, 2026-11-01 to 2026-11-30\n")
    assert "| opportunities forwarded | 8 |" in text
    assert "| SMEs and start-ups | 3 |" in text
    assert "| research institutions | 1 |" in text
    assert "| other organisations | 1 |" in text
    assert "| organisations: Start-up | 1 |" in text
    assert "| organisations in DE | 4 |" in text
    assert "| organisations in the Oncology network | 3 |" in text
    assert "| 2026-11-09 Digital \\| Health | 6 |" in text  # a pipe in a title is escaped
    assert "| unanswered (abstained) | 2 |" in text
    assert "## Precision of alert feedback\n\nNone in this window." in text
    assert CONTRACTS_NOTE in text


def test_csv_is_one_row_per_figure() -> None:
    report = _report()
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert rows[0] == ["section", "figure", "value"]
    assert len(rows) == 1 + len(report.figures())
    assert ["forwarded", "opportunities forwarded", "8"] in rows
    assert ["funnel", "contracts", "0"] in rows
    assert ["meetings", "2026-11-09 Digital | Health", "6"] in rows


def _decode_png(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks.append((kind, body))
        pos += 12 + length
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == height * (1 + 3 * width)
    return width, height, raw


def test_png_is_a_valid_bar_chart_of_the_main_figures() -> None:
    report = _report()
    width, height, raw = _decode_png(render_png(report))
    assert width == 720
    assert height > 24 * len(report.main_figures())
    assert bytes(BAR) in raw


def test_png_bars_are_proportional_and_bad_values_are_refused() -> None:
    width, _, raw = _decode_png(bar_chart("T", [("A", 10), ("B", 5), ("C", 0)], width=200))
    stride = 1 + 3 * width
    lines = [raw[i * stride + 1 : (i + 1) * stride] for i in range(len(raw) // stride)]
    runs = sorted({line.count(bytes(BAR)) for line in lines} - {0}, reverse=True)
    assert len(runs) == 2
    assert abs(runs[0] - 2 * runs[1]) <= 1
    with pytest.raises(ValueError, match="negative"):
        bar_chart("T", [("A", -1)])
    with pytest.raises(ValueError, match="too narrow"):
        bar_chart("T", [("A VERY LONG LABEL INDEED", 1)], width=100)


def test_window_is_inclusive_and_refuses_a_reversed_range() -> None:
    start, end = window(date(2026, 11, 1), date(2026, 11, 30))
    assert (start, end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="after"):
        window(date(2026, 12, 1), date(2026, 11, 30))


def test_report_command_writes_md_csv_and_png(demo_dir: Path, tmp_path: Path) -> None:
    async def setup() -> None:
        app = await make_app(demo_dir)
        try:
            await _people(app)
        finally:
            await app.close()

    asyncio.run(setup())
    start, end = (d.isoformat() for d in main_window())
    base = ["report", "--data-dir", str(demo_dir), "--from", start, "--to", end]
    md = CliRunner().invoke(cli, base)
    assert md.exit_code == 0, md.output
    assert "| questions asked | 2 |" in md.stdout
    assert "| SMEs and start-ups | 1 |" in md.stdout
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(cli, [*base, "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert ["questions", "thumbs down", "1"] in rows
    png = tmp_path / "r.png"
    result = CliRunner().invoke(cli, [*base, "--format", "png", "--output", str(png)])
    assert result.exit_code == 0, result.output
    assert _decode_png(png.read_bytes())[0] == 720


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-12-01", "--to", "2026-11-01"], "--from 2026-12-01 is after --to"),
        (["--from", "01/11/2026", "--to", "2026-11-30"], "'01/11/2026' is not a date"),
        (["--from", "2026-11-01"], "Missing option '--to'"),
        (["--from", "2026-11-01", "--to", "2026-11-30", "--format", "png"], "needs --output"),
        (["--from", "2026-11-01", "--to", "2026-11-30", "--format", "pdf"], "'pdf' is not"),
    ],
)
def test_report_command_names_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["report", "--data-dir", str(tmp_path), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_report_command_names_an_unwritable_output(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "r.md"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--data-dir",
            str(tmp_path / "d"),
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--output",
            str(target),
        ],
    )
    assert result.exit_code == 1
    assert f"cannot write {target}" in result.output


def test_ingest_is_audited_and_audit_lists_entries(tmp_path: Path) -> None:
    doc = tmp_path / "offer.md"
    doc.write_text("---\nid: OFF-1\nkind: incubator_offer\ntitle: Desk\n---\n# Desk\nDesks.")
    data = str(tmp_path / "d")
    result = CliRunner().invoke(
        cli, ["ingest", "--data-dir", data, "--audience", "members", str(doc)]
    )
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(cli, ["audit", "--data-dir", data, "--json"])
    assert listed.exit_code == 0, listed.output
    (entry,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (entry["actor"], entry["action"], entry["subject"]) == ("cli", "ingest", None)
    assert entry["detail"] == {
        "targets": [str(doc)],
        "audience": "members",
        "files": 1,
        "added": 1,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
    }
    plain = CliRunner().invoke(cli, ["audit", "--data-dir", data])
    assert "cli" in plain.stdout
    assert "ingest" in plain.stdout
    assert "added=1" in plain.stdout
    later = CliRunner().invoke(cli, ["audit", "--data-dir", data, "--since", "2999-01-01"])
    assert later.exit_code == 0
    assert later.stdout.strip() == "no audit entries since 2999-01-01"
    bad = CliRunner().invoke(cli, ["audit", "--data-dir", data, "--since", "soon"])
    assert bad.exit_code == 2
    assert "'soon' is not a date" in bad.output


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        (
            "https://user:pw@feeds.example.org:8443/calls.xml?key=s3cret#x",
            "https://feeds.example.org:8443/calls.xml",
        ),
        ("http://example.org/a?token=1", "http://example.org/a"),
        ("http://example.org:bad/a", "http://example.org/a"),
        ("/data/calls.csv", "/data/calls.csv"),
    ],
)
def test_ingest_targets_lose_credentials_before_the_audit_log(target: str, kept: str) -> None:
    assert safe_target(target) == kept
