"""Alert planning: new and changed opportunities matched to consenting people, into the outbox."""

from __future__ import annotations

import csv
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.alerts import AlertPlanner
from bot.app import App
from bot.config import AlertSettings
from bot.messages import reply_from_data
from knowledge.match import Matcher
from storage.alerts import category_stats
from storage.models import Alert, Delivery, Opportunity
from tests.bot.chat import Chat, onboard
from tests.factories import DEMO_CORPUS, make_app


@dataclass
class Clock:
    """A clock the test moves."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()


SATURDAY_NOON = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


@pytest.fixture
async def app(demo_dir: Path) -> AsyncIterator[App]:
    built = await make_app(demo_dir)
    try:
        yield built
    finally:
        await built.close()


def planner(app: App, clock: Clock, **settings: object) -> AlertPlanner:
    return AlertPlanner(
        sessions=app.sessions,
        matcher=Matcher(sessions=app.sessions, index=app.index),
        clock=clock,
        settings=AlertSettings(**settings),  # type: ignore[arg-type]
        timezone="Europe/Berlin",
    )


async def _deliveries(app: App) -> list[Delivery]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def _alerts(app: App) -> dict[str, Alert]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(Opportunity.external_id, Alert).join(
                Alert, Alert.opportunity_id == Opportunity.id
            )
        )
        return {external_id: alert for external_id, alert in rows}


async def test_strong_matches_go_at_once_and_the_rest_wait_for_the_digest(app: App) -> None:
    chat = Chat(app.assistant, channel="telegram", user="5", chat="5")
    await onboard(chat)
    clock = Clock(SATURDAY_NOON)
    summary = await planner(app, clock, instant_score=0.35).plan()
    alerts = await _alerts(app)
    assert summary.alerts == len(alerts) > 0
    assert "KBR-IPV-2026" not in alerts  # closed on 2026-10-15
    assert all(a.category == "funding" for a in alerts.values())  # the only consent
    instant = [a for a in alerts.values() if a.status == "sent"]
    waiting = [a for a in alerts.values() if a.status == "digest"]
    assert instant
    assert all(a.score >= 0.35 for a in instant)
    assert all(0.3 <= a.score < 0.35 for a in waiting)
    (delivery,) = [d for d in await _deliveries(app) if d.kind == "alert"][:1]
    assert (delivery.channel, delivery.chat_id, delivery.category) == ("telegram", "5", "funding")
    reply = reply_from_data(delivery.payload)
    assert "Why it fits" in reply.text
    assert [b.label for b in reply.buttons][:2] == ["Save", "I'm applying"]
    assert {"Relevant", "Not for us", "Already knew", "Stop alerts"} <= {
        b.label for b in reply.buttons
    }
    again = await planner(app, clock, instant_score=0.35).plan()
    assert (again.alerts, again.opportunities) == (0, 0)
    assert len(await _deliveries(app)) == summary.instant


async def test_digests_go_out_at_the_digest_hour_one_per_category(app: App) -> None:
    chat = Chat(app.assistant, channel="telegram", user="5", chat="5")
    await onboard(chat)
    await chat.say("/alerts weekly")
    await chat.say("/alerts on partners")
    saturday = Clock(SATURDAY_NOON)
    summary = await planner(app, saturday).plan()
    assert summary.instant == 0  # weekly people get no instant alerts
    assert summary.to_digest == summary.alerts > 0
    assert summary.digests == 0
    monday = Clock(datetime(2026, 11, 30, 8, 5, tzinfo=UTC))  # 09:05 Berlin
    later = await planner(app, monday).plan()
    digests = [d for d in await _deliveries(app) if d.kind == "digest"]
    assert later.digests == len(digests) == 2
    assert {d.item_key for d in digests} == {"digest:2026-W49:funding", "digest:2026-W49:partners"}
    assert all(a.status == "sent" for a in (await _alerts(app)).values())
    text = reply_from_data(digests[0].payload).text
    assert text.startswith("Opportunities for Acme Diagnostics GmbH")


async def test_quiet_hours_and_the_weekly_cap(app: App) -> None:
    chat = Chat(app.assistant, channel="telegram", user="5", chat="5")
    await onboard(chat)
    late = Clock(datetime(2026, 11, 28, 21, 30, tzinfo=UTC))  # 22:30 in Berlin
    summary = await planner(app, late, instant_score=0.3, weekly_cap=1).plan()
    assert summary.instant == 1
    assert summary.to_digest == summary.alerts - 1
    (delivery,) = await _deliveries(app)
    assert delivery.due_at.replace(tzinfo=UTC) == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)


async def test_only_consented_categories_and_nobody_who_stopped(app: App) -> None:
    chat = Chat(app.assistant, channel="telegram", user="5", chat="5")
    await onboard(chat)
    await chat.say("/stop")
    summary = await planner(app, Clock(SATURDAY_NOON)).plan()
    assert (summary.recipients, summary.alerts) == (0, 0)


def _set_deadline(calls: Path, call_id: str, deadline: str) -> str:
    with calls.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    row = next(r for r in rows if r["id"] == call_id)
    old, row["deadlines"] = row["deadlines"], deadline
    with calls.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return old


async def test_a_changed_deadline_sends_an_update_and_moves_reminders(tmp_path: Path) -> None:
    calls = tmp_path / "funding-calls.csv"
    shutil.copy(DEMO_CORPUS / "funding-calls.csv", calls)
    app = await make_app(tmp_path / "store")
    try:
        assert (await app.ingester.ingest([str(calls)])).failed == 0
        chat = Chat(app.assistant, channel="telegram", user="5", chat="5")
        await onboard(chat)
        clock = Clock(SATURDAY_NOON)
        await planner(app, clock, instant_score=0.3).plan()
        first = next(d for d in await _deliveries(app) if d.kind == "alert")
        chat.last = reply_from_data(first.payload)
        assert "I'll remind you 14, 7, 2 days before" in (await chat.tap("Save")).text
        before = {d.item_key for d in await _deliveries(app) if d.kind == "reminder"}
        assert before
        async with app.sessions() as session:
            target = await session.get_one(Opportunity, first.opportunity_id)
        old = _set_deadline(calls, target.external_id, "2027-06-30")
        assert (await app.ingester.ingest([str(calls)])).failed == 0

        summary = await planner(app, clock, instant_score=0.3).plan()
        assert summary.updates == 1
        rows = await _deliveries(app)
        (update,) = [d for d in rows if d.kind == "update"]
        text = reply_from_data(update.payload).text
        assert f"deadline changed from {old} to 2027-06-30" in text
        reminders = {d.item_key: d.status for d in rows if d.kind == "reminder"}
        assert all(reminders[key] == "cancelled" for key in before)
        moved = {k for k, status in reminders.items() if status == "pending"}
        assert moved == {f"remind:{target.id}:2027-06-30:{lead}" for lead in (14, 7, 2)}
    finally:
        await app.close()


async def test_a_call_that_closes_is_never_sent(app: App) -> None:
    chat = Chat(app.assistant, channel="telegram", user="5", chat="5")
    await onboard(chat)
    await planner(app, Clock(SATURDAY_NOON), instant_score=0.3).plan()
    queued = [d for d in await _deliveries(app) if d.kind == "alert"]
    assert queued
    after_all_deadlines = Clock(datetime(2027, 12, 1, 11, 0, tzinfo=UTC))
    summary = await planner(app, after_all_deadlines).plan()
    assert summary.cancelled == len(queued)
    assert {d.status for d in await _deliveries(app)} == {"cancelled"}


async def test_feedback_on_alerts_is_stored_and_counted(app: App) -> None:
    chat = Chat(app.assistant, channel="telegram", user="5", chat="5")
    await onboard(chat)
    await planner(app, Clock(SATURDAY_NOON), instant_score=0.3).plan()
    messages = [d for d in await _deliveries(app) if d.kind == "alert"]
    assert len(messages) >= 2
    chat.last = reply_from_data(messages[0].payload)
    assert "noted as relevant" in (await chat.tap("Relevant")).text
    chat.last = reply_from_data(messages[1].payload)
    assert "I'll show you fewer like it" in (await chat.tap("Not for us")).text
    async with app.sessions() as session:
        (funding,) = await category_stats(session)
    assert (funding.category, funding.relevant, funding.not_for_us) == ("funding", 1, 1)
    assert funding.precision == 0.5
    stranger = Chat(app.assistant, channel="telegram", user="6", chat="6")
    stranger.last = reply_from_data(messages[0].payload)
    assert "no longer on record" in (await stranger.tap("Relevant")).text
