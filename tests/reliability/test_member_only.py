"""Member-only and staff-only documents never reach someone who may not see them.

Each restricted document carries a unique marker word. Every output a non-member can get is
scanned for it: retrieval (dense, lexical, and after the caches were warmed by a member), the
prompt the chat model receives, answers and their sources, /calls, /events, partner scouting,
planned alerts, and group chats (where even members see public documents only). A member org
that loses its membership through ``clusterbot org confirm --revoke`` loses them with the
next message. Each check has its control: the right person does see the marker.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.admin import confirm_membership
from bot.app import App
from bot.cli import cli
from bot.messages import Reply
from bot.slack import render as render_slack
from bot.telegram import render as render_telegram
from storage.models import Delivery, Identity, Person
from storage.search import lexical_search
from tests.bot.chat import Chat
from tests.factories import make_app
from tests.reliability.poison import ObedientChatModel

MEMBER = "quorvantix"  # in every member-only document
STAFF = "stalbrenix"  # in every staff-only document
MEMBER_ORG = "Acme Diagnostics GmbH"
OUTSIDER_ORG = "Outsider Diagnostics GmbH"

_CSV_HEAD = (
    "id,kind,title,programme,status,opening_date,deadlines,countries,org_types,keywords,url,"
    "sme_only,description\n"
)


def _call(ident: str, kind: str, title: str, marker: str) -> str:
    description = (
        f"{title}: point-of-care sepsis diagnostics and biomarkers for SMEs in Germany, "
        f"code word {marker}. Up to EUR 50,000 for a prototype."
    )
    return (
        f'{ident},{kind},"{title} {marker}",Korvenmark restricted,open,2026-11-01,2027-02-15,'
        f"DE,SME,sepsis;diagnostics;biomarkers;point-of-care,https://korvenmark-bio.example/{ident},"
        f'true,"{description}"\n'
    )


def _ics(marker: str) -> str:
    return "\r\n".join(
        (
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//isolation//EN",
            "BEGIN:VEVENT",
            f"UID:{marker}-breakfast@korvenmark-bio.example",
            "DTSTAMP:20261120T090000Z",
            "DTSTART:20261210T080000Z",
            "DTEND:20261210T100000Z",
            f"SUMMARY:{marker} breakfast on sepsis diagnostics",
            f"DESCRIPTION:Closed breakfast ({marker}) on sepsis point-of-care diagnostics.",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        )
    )


def _write(folder: Path, marker: str, prefix: str) -> None:
    folder.mkdir(parents=True)
    (folder / f"{marker}-notes.md").write_text(
        f"# {marker} notes on sepsis diagnostics\n\n"
        f"The {marker} programme gives SMEs working on sepsis biomarkers and point-of-care "
        f"diagnostics a confidential jury contact and the scoring grid ({marker}).\n"
    )
    (folder / f"{marker}-calls.csv").write_text(
        _CSV_HEAD
        + _call(f"{prefix}-CALL", "funding_call", "Sepsis diagnostics voucher", marker)
        + _call(f"{prefix}-PART", "partnering", "Sepsis biomarker partner search", marker)
    )
    (folder / f"{marker}-meetings.ics").write_text(_ics(marker))


def shown(reply: Reply) -> str:
    """All a person could see of a reply: text, sources, buttons, and both renderings."""
    telegram = " ".join(m.text for m in render_telegram(reply))
    slack = json.dumps(render_slack(reply), ensure_ascii=False)
    buttons = " ".join(f"{b.label} {b.action} {b.payload}" for b in reply.buttons)
    return f"{reply.text}\n{reply.sources}\n{buttons}\n{telegram}\n{slack}".lower()


@pytest.fixture
async def app(demo_dir: Path, tmp_path: Path) -> AsyncIterator[App]:
    _write(tmp_path / "members", MEMBER, "MBR")
    _write(tmp_path / "staff", STAFF, "STF")
    built = await make_app(demo_dir, chat_model=ObedientChatModel())
    try:
        for folder, audience in (("members", "members"), ("staff", "staff")):
            summary = await built.ingester.ingest([str(tmp_path / folder)], audience=audience)
            assert summary.failed == 0, summary.errors
        yield built
    finally:
        await built.close()


async def _person(app: App, user: str, org: str) -> Chat:
    """A person onboarded in a private chat, for an organisation of their own."""
    chat = Chat(app.assistant, user=user, chat=user)
    await chat.say("/start")
    await chat.say(org)
    await chat.say("Germany")
    await chat.tap("SME")
    await chat.tap("10-49")
    await chat.say("diagnostics, digital health")
    await chat.say("sepsis, oncology")
    await chat.say("biomarkers, point-of-care")
    await chat.tap("Prototype")
    await chat.tap("Funding")
    await chat.tap("Done")
    await chat.tap("Yes, as they appear")
    return chat


async def _id(app: App, user: str) -> int:
    async with app.sessions() as session:
        found = await session.scalar(
            select(Identity.person_id).where(Identity.external_id == user)
        )
    assert found is not None
    return found


async def _seen(chat: Chat, model: ObedientChatModel, texts: list[str]) -> str:
    """Everything the chat gets for ``texts``, and every prompt they caused."""
    start = len(model.prompts)
    replies = [await chat.say(t) for t in texts]
    return "\n".join([*map(shown, replies), *model.prompts[start:]]).lower()


QUESTIONS = [
    f"What is {MEMBER}?",
    f"What is {STAFF}?",
    "Which confidential jury contact helps with sepsis biomarkers and point-of-care diagnostics?",
    "Is there a sepsis diagnostics voucher for SMEs?",
    "Any breakfast on sepsis diagnostics?",
    "/calls",
    "/events",
    "/scout sepsis biomarker point-of-care diagnostics | any | Germany",
]


async def test_only_members_see_member_documents_and_only_staff_staff_ones(app: App) -> None:
    model = app.answerer._chat_model
    assert isinstance(model, ObedientChatModel)
    boss = Chat(app.assistant, user="boss", chat="boss")
    await boss.say("/help")
    async with app.sessions.begin() as session:
        person = await session.get(Person, await _id(app, "boss"))
        assert person is not None
        person.role = "staff"  # as 'clusterbot people role' does
    member = await _person(app, "insider", MEMBER_ORG)
    outsider = await _person(app, "outsider", OUTSIDER_ORG)
    await confirm_membership(app.sessions, MEMBER_ORG, member=True, actor="test")

    # Staff first, so every cache a retriever keeps has seen the restricted words.
    staff_sees = await _seen(boss, model, QUESTIONS)
    assert MEMBER in staff_sees
    assert STAFF in staff_sees
    member_sees = await _seen(member, model, QUESTIONS)
    assert MEMBER in member_sees
    assert STAFF not in member_sees
    for command in ("/calls", "/events", QUESTIONS[-1]):  # each list is a real control
        assert MEMBER in shown(await member.say(command)), command
    outsider_sees = await _seen(outsider, model, QUESTIONS)
    assert MEMBER not in outsider_sees
    assert STAFF not in outsider_sees

    # Group chats see public documents only, whoever asks.
    for someone in (member, boss):
        group = Chat(app.assistant, user=someone.user, chat="group-1", chat_type="group")
        in_group = await _seen(group, model, QUESTIONS[:7])
        assert MEMBER not in in_group
        assert STAFF not in in_group

    # Alerts: planned for the member (the control), never for the outsider.
    await app.planner().plan()
    async with app.sessions() as session:
        rows = (await session.execute(select(Delivery.person_id, Delivery.payload))).all()
    by_person: dict[int, str] = {}
    for person_id, payload in rows:
        by_person[person_id] = by_person.get(person_id, "") + json.dumps(payload).lower()
    assert MEMBER in by_person.get(await _id(app, "insider"), "")
    outsider_alerts = by_person.get(await _id(app, "outsider"), "")
    assert MEMBER not in outsider_alerts
    assert STAFF not in outsider_alerts


async def test_retrieval_filters_every_path(app: App) -> None:
    """Dense, lexical and fused retrieval, each asked directly for the marker words."""
    today = app.clock.today()
    # A staff retrieval first warms the retriever's term cache with the restricted words.
    warm = await app.retriever.retrieve(
        f"{MEMBER} {STAFF}", today=today, audiences=("public", "members", "staff")
    )
    assert {p.audience for p in warm.passages} >= {"members", "staff"}
    assert all(warm.term_df.values())
    # Word statistics (they decide between answering and declining) ignore restricted text.
    public = await app.retriever.retrieve(f"{MEMBER} {STAFF}", today=today, audiences=("public",))
    assert public.term_df
    assert not any(public.term_df.values())
    assert public.total_chunks < warm.total_chunks
    for question in (f"{MEMBER} {STAFF}", "confidential jury contact sepsis biomarkers"):
        found = await app.retriever.retrieve(question, today=today, audiences=("public",))
        assert {p.audience for p in found.passages} <= {"public"}
        assert not [p for p in found.passages if MEMBER in p.text or STAFF in p.text]
        members = await app.retriever.retrieve(
            question, today=today, audiences=("public", "members")
        )
        assert {p.audience for p in members.passages} <= {"public", "members"}
    vector = app.index.embedder.embed_array([f"{MEMBER} sepsis notes"], query=True)[0]
    dense = await app.index.aquery(vector, limit=200, audiences=("public",))
    async with app.sessions() as session:
        from storage.documents import chunks_by_ids

        chunks = await chunks_by_ids(session, [v for v, _s in dense])
        assert chunks
        assert {c.document.audience for c in chunks} == {"public"}
        lexical = await lexical_search(
            session, terms=[MEMBER, STAFF], phrases=[], audiences=("public",), kinds=None, limit=50
        )
        assert lexical == []
        assert await lexical_search(
            session, terms=[MEMBER], phrases=[], audiences=("members",), kinds=None, limit=50
        )


async def test_revoked_membership_hides_member_documents_from_the_next_message(
    app: App,
) -> None:
    model = app.answerer._chat_model
    assert isinstance(model, ObedientChatModel)
    member = await _person(app, "insider", MEMBER_ORG)
    await confirm_membership(app.sessions, MEMBER_ORG, member=True, actor="test")
    assert MEMBER in await _seen(member, model, [f"What is {MEMBER}?", "/calls"])
    await app.planner().plan()
    assert MEMBER in await _pending(app, "insider")  # an alert about the member-only call

    data_dir = app.settings.data_dir
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["org", "confirm", "--revoke", "--data-dir", str(data_dir), MEMBER_ORG],
    )
    assert result.exit_code == 0, result.output
    assert "no longer a member" in result.output

    after = await _seen(member, model, [f"What is {MEMBER}?", "/calls", "/events"])
    assert MEMBER not in after
    # What was queued for them while they were members goes too.
    assert MEMBER not in await _pending(app, "insider")
    await app.planner().plan()
    assert MEMBER not in await _pending(app, "insider")


async def _pending(app: App, user: str) -> str:
    """The payloads of a person's messages still waiting in the outbox."""
    person_id = await _id(app, user)
    async with app.sessions() as session:
        payloads = await session.scalars(
            select(Delivery.payload).where(
                Delivery.person_id == person_id, Delivery.status == "pending"
            )
        )
        return json.dumps(list(payloads)).lower()
