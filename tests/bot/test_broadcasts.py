"""Broadcast steps: parsing with clear errors, draft, confirm, approval, schedule, cancel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.broadcast_spec import (
    Request,
    describe_segment,
    parse_buttons,
    parse_request,
    parse_segment,
    parse_time,
)
from bot.broadcasts import (
    FOOTER,
    PRESS,
    approval_rule,
    approve,
    cancel,
    confirm,
    create,
    figures_text,
    message,
    press,
    preview,
    recent,
    set_approval,
    status,
)
from bot.errors import UserError
from storage import SessionFactory
from storage.models import AuditEntry, Delivery, Identity, Organisation, Person
from storage.models import Subscription as Consent

TZ = "Europe/Berlin"


async def members(sessions: SessionFactory, count: int, *, country: str = "DE") -> list[int]:
    ids = []
    async with sessions.begin() as session:
        org = Organisation(
            name=f"Org {country}", join_code=f"CODE-{country}", country=country, sectors=["x"]
        )
        session.add(org)
        await session.flush()
        for n in range(count):
            person = Person(organisation_id=org.id)
            session.add(person)
            await session.flush()
            chat = f"{country}{n}"
            session.add(
                Identity(person_id=person.id, channel="telegram", external_id=chat, chat_id=chat)
            )
            session.add(Consent(person_id=person.id, category="news"))
            ids.append(person.id)
    return ids


async def audit_actions(sessions: SessionFactory) -> list[tuple[str, str, str | None]]:
    async with sessions() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.action, r.actor, r.subject) for r in rows]


async def deliveries(sessions: SessionFactory) -> list[Delivery]:
    async with sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


# -- parsing ---------------------------------------------------------------------------------------


def test_a_segment_reads_fields_values_with_spaces_and_country_names() -> None:
    segment, at = parse_segment(
        "Sector=Digital Health, diagnostics country=Germany,dk type=SME tier=Full "
        "network=Digital Health Network channel=Telegram area=oncology",
        timezone=TZ,
    )
    assert at is None
    assert segment == {
        "sectors": ["digital health", "diagnostics"],
        "country": ["DE", "DK"],
        "org_type": ["sme"],
        "membership_tier": ["full"],
        "networks": ["digital health network"],
        "channel": ["telegram"],
        "therapeutic_areas": ["oncology"],
    }
    assert describe_segment(segment) == (
        "sector=digital health,diagnostics area=oncology country=DE,DK type=sme "
        "network=digital health network tier=full channel=telegram"
    )
    assert parse_segment("all", timezone=TZ) == ({}, None)
    assert describe_segment({}) == "everyone subscribed to announcements"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "Say who gets it"),
        ("diagnostics", "I don't understand 'diagnostics'"),
        ("colour=blue", "'colour' is not a segment field. Use: sector, area, country"),
        ("country=Atlantis", "'Atlantis' is not a country I know"),
        ("type=spaceship", "'spaceship' is not an organisation type; use sme, start-up"),
        ("channel=fax", "'fax' is not a channel; use telegram or slack"),
        ("all sector=x", "all means everyone; leave it out"),
        ("at=2030-12-01T09:00", "Say who gets it besides when"),
        ("sector=", "sector= has no value"),
        ("sector=x at=tomorrow", "at=tomorrow is not a time like 2026-12-01T09:00"),
        ("sector=x at=2020-01-01T09:00", "at=2020-01-01T09:00 is in the past"),
    ],
)
def test_a_bad_segment_names_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(UserError, match=None) as caught:
        parse_segment(spec, timezone=TZ)
    assert says in str(caught.value)


def test_a_send_time_is_read_in_the_clusters_timezone() -> None:
    at = parse_time("2030-12-01T09:00", timezone=TZ)
    assert at == datetime(2030, 12, 1, 8, 0, tzinfo=UTC)
    segment, when = parse_segment("sector=x at=2030-12-01 09:00", timezone=TZ)
    assert (segment, when) == ({"sectors": ["x"]}, at)


def test_buttons_and_text_are_checked() -> None:
    request = parse_request(
        "all | Hello | Register=https://e.org/r | Agenda=https://e.org/a", timezone=TZ
    )
    assert request == Request(
        {}, "Hello", (("Register", "https://e.org/r"), ("Agenda", "https://e.org/a"))
    )
    for parts, says in [
        (["Register"], "'Register' is not a button"),
        (["Go=ftp://x"], "is not a button"),
        (["A=https://a", "a=https://b"], "Two buttons are called"),
        ([f"{'x' * 31}=https://a"], "too long"),
        ([f"{n}=https://a" for n in "abcd"], "At most 3 buttons"),
    ]:
        with pytest.raises(UserError, match=None) as caught:
            parse_buttons(parts)
        assert says in str(caught.value)
    with pytest.raises(UserError, match="after a \\| sign"):
        parse_request("all", timezone=TZ)
    with pytest.raises(UserError, match="The message is empty"):
        parse_request("all |   ", timezone=TZ)
    with pytest.raises(UserError, match="too long"):
        parse_request("all | " + "x" * 4000, timezone=TZ)


# -- the steps -------------------------------------------------------------------------------------


async def test_draft_confirm_queues_one_message_each_and_audits(sessions: SessionFactory) -> None:
    await members(sessions, 3, country="DE")
    await members(sessions, 2, country="FR")
    request = parse_request("country=DE | Meet us | Register=https://e.org/r", timezone=TZ)
    draft = await create(sessions, request, author="person:99", author_id=None)
    assert (draft.view.status, draft.total, draft.counts) == ("draft", 3, {"telegram": 3})
    assert await deliveries(sessions) == []
    view = await confirm(sessions, draft.view.id, actor="person:99", actor_id=None)
    assert (view.status, view.recipients) == ("queued", 3)
    rows = await deliveries(sessions)
    assert len(rows) == 3
    assert {r.item_key for r in rows} == {f"broadcast:{view.id}"}
    assert rows[0].payload["text"] == "Meet us" + FOOTER
    assert rows[0].payload["buttons"][0]["action"] == PRESS
    assert rows[0].payload["buttons"][0]["payload"] == f"{view.id}:0"
    assert await audit_actions(sessions) == [
        ("broadcast.create", "person:99", f"broadcast:{view.id}"),
        ("broadcast.confirm", "person:99", f"broadcast:{view.id}"),
    ]
    with pytest.raises(UserError, match="is already on its way"):
        await confirm(sessions, view.id, actor="person:99", actor_id=None)
    assert len(await deliveries(sessions)) == 3


async def test_a_scheduled_broadcast_is_due_at_its_time(sessions: SessionFactory) -> None:
    await members(sessions, 2)
    request = parse_request("all at=2030-06-01T10:00 | Later", timezone=TZ)
    draft = await create(sessions, request, author="cli:ann", author_id=None)
    await confirm(sessions, draft.view.id, actor="cli:ann", actor_id=None)
    due = {r.due_at.replace(tzinfo=UTC) for r in await deliveries(sessions)}
    assert due == {datetime(2030, 6, 1, 8, 0, tzinfo=UTC)}
    view, found = await status(sessions, draft.view.id)
    assert (view.status, found.pending) == ("queued", 2)


async def test_nobody_matching_sends_nothing(sessions: SessionFactory) -> None:
    await members(sessions, 2, country="DE")
    draft = await create(
        sessions, parse_request("country=FR | Hi", timezone=TZ), author="cli:a", author_id=None
    )
    assert draft.total == 0
    with pytest.raises(UserError, match="Nobody matches"):
        await confirm(sessions, draft.view.id, actor="cli:a", actor_id=None)
    assert (await status(sessions, draft.view.id))[0].status == "draft"


async def test_with_the_approval_rule_a_second_person_must_approve(
    sessions: SessionFactory,
) -> None:
    await members(sessions, 2)
    await set_approval(sessions, required=True, actor="cli:admin")
    assert await approval_rule(sessions) is True
    draft = await create(
        sessions, parse_request("all | Hi", timezone=TZ), author="person:1", author_id=1
    )
    assert draft.view.needs_approval
    with pytest.raises(UserError, match="is not confirmed by its author yet"):
        await approve(sessions, draft.view.id, actor="person:2", actor_id=2)
    view = await confirm(sessions, draft.view.id, actor="person:1", actor_id=1)
    assert view.status == "awaiting_approval"
    assert await deliveries(sessions) == []
    with pytest.raises(UserError, match="someone else on the team has to approve"):
        await approve(sessions, view.id, actor="person:1", actor_id=1)
    view = await approve(sessions, view.id, actor="person:2", actor_id=2)
    assert (view.status, view.recipients, view.approved_by) == ("queued", 2, "person:2")
    assert len(await deliveries(sessions)) == 2
    actions = [a for a, _, _ in await audit_actions(sessions)]
    assert actions == [
        "broadcast.approval_rule",
        "broadcast.create",
        "broadcast.confirm",
        "broadcast.approve",
    ]
    # Whoever sent it on cannot approve it either: two people always see it.
    other = await create(
        sessions, parse_request("all | Again", timezone=TZ), author="person:1", author_id=1
    )
    await confirm(sessions, other.view.id, actor="person:2", actor_id=2)
    for who in (1, 2):
        with pytest.raises(UserError, match="someone else on the team"):
            await approve(sessions, other.view.id, actor=f"person:{who}", actor_id=who)
    assert (await approve(sessions, other.view.id, actor="person:3", actor_id=3)).recipients == 2


async def test_cancel_mid_way_keeps_what_was_sent(sessions: SessionFactory) -> None:
    await members(sessions, 4)
    draft = await create(
        sessions, parse_request("all | Hi", timezone=TZ), author="cli:a", author_id=None
    )
    await confirm(sessions, draft.view.id, actor="cli:a", actor_id=None)
    first = (await deliveries(sessions))[0]
    async with sessions.begin() as session:
        await session.execute(
            update(Delivery).where(Delivery.id == first.id).values(status="sent")
        )
    view, stopped = await cancel(sessions, draft.view.id, actor="cli:b")
    assert (view.status, view.cancelled_by, stopped) == ("cancelled", "cli:b", 3)
    _, found = await status(sessions, draft.view.id)
    assert (found.sent, found.cancelled, found.pending) == (1, 3, 0)
    assert "cancelled 3" in figures_text(view, found)
    with pytest.raises(UserError, match="was cancelled by cli:b"):
        await cancel(sessions, draft.view.id, actor="cli:b")
    assert ("broadcast.cancel", "cli:b", f"broadcast:{view.id}") in await audit_actions(sessions)


async def test_a_finished_broadcast_is_done_and_cannot_be_cancelled(
    sessions: SessionFactory,
) -> None:
    await members(sessions, 2)
    draft = await create(
        sessions, parse_request("all | Hi", timezone=TZ), author="cli:a", author_id=None
    )
    await confirm(sessions, draft.view.id, actor="cli:a", actor_id=None)
    async with sessions.begin() as session:
        await session.execute(update(Delivery).values(status="sent"))
    view, found = await status(sessions, draft.view.id)
    assert (view.status, found.sent) == ("done", 2)
    with pytest.raises(UserError, match="was sent to everyone already"):
        await cancel(sessions, draft.view.id, actor="cli:a")


async def test_presses_count_once_per_person_and_button(sessions: SessionFactory) -> None:
    people = await members(sessions, 2)
    request = parse_request("all | Hi | Go=https://e.org/go", timezone=TZ)
    draft = await create(sessions, request, author="cli:a", author_id=None)
    bid = draft.view.id
    assert await press(sessions, payload=f"{bid}:0", person_id=people[0]) == (
        "Go",
        "https://e.org/go",
    )
    await press(sessions, payload=f"{bid}:0", person_id=people[0])
    await press(sessions, payload=f"{bid}:0", person_id=people[1])
    for bad in (f"{bid}:1", "x:0", f"{bid + 1}:0", "junk"):
        assert await press(sessions, payload=bad, person_id=people[0]) is None
    view, found = await status(sessions, bid)
    assert (found.presses, found.pressed_by) == ({"Go": 2}, 2)
    assert "Buttons pressed: Go 2 (total 2)" in figures_text(view, found)


async def test_unknown_broadcasts_and_the_list(sessions: SessionFactory) -> None:
    with pytest.raises(UserError, match="There is no broadcast #5"):
        await preview(sessions, 5)
    assert await recent(sessions) == []
    await members(sessions, 1)
    request = parse_request("all | Hi", timezone=TZ)
    ids = [
        (await create(sessions, request, author="cli:a", author_id=None)).view.id for _ in range(3)
    ]
    assert [v.id for v in await recent(sessions, limit=2)] == ids[::-1][:2]
    sample = message((await preview(sessions, ids[0])).view)
    assert sample.text == "Hi" + FOOTER
    assert sample.buttons == ()
