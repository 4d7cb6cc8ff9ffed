"""/forget leaves nothing of the person: every table and the vector store are scanned."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from bot.app import App
from bot.messages import Incoming
from bot.unanswered import curated_uri
from knowledge.answer import user_reference
from storage.documents import all_vector_ids
from storage.models import (
    Alert,
    AuditEntry,
    Base,
    Broadcast,
    BroadcastPress,
    Chunk,
    Delivery,
    Document,
    Identity,
    Opportunity,
    Organisation,
    Person,
    Question,
    ScoutingCandidate,
    ScoutingRequest,
    Source,
    utcnow,
)
from storage.people import set_state
from tests.bot.chat import Chat, onboard

USER = "tg-48213977"
CHAT = "chat-48213977"
SLACK_USER = "U0FORGETME"
SLACK_CHAT = "D0FORGETME"
NAME = "Ilse Vergissmeinnicht"
ORG = "Vergissmeinnicht Diagnostics GmbH"
ASKED = "Which voucher covers zebrafish toxicity screens for Vergissmeinnicht?"
IN_GROUP = "Does the cluster lend a cryostat to Vergissmeinnicht for a week?"
SCOUTING = "Looking for a CRO with GLP zebrafish capacity near Vergissmeinnicht"
CURATED = "The feasibility voucher covers external toxicity screens up to EUR 10 000."


async def _everything(app: App) -> tuple[int, set[str]]:
    """A member with a profile, two accounts and a trace in every part of the bot."""
    me = Chat(app.assistant, user=USER, chat=CHAT, channel="telegram")
    await me.assistant.respond(
        Incoming.parse(
            channel="telegram",
            user_id=USER,
            chat_id=CHAT,
            text="/help",
            event_id="first-contact",
            display_name=NAME,
        )
    )
    await onboard(me)
    async with app.sessions.begin() as session:
        (org,) = await session.scalars(select(Organisation))
        org.name = ORG
        person = await session.scalar(select(Person).where(Person.display_name == NAME))
        assert person is not None
        person_id = person.id
        # A second account of the same person, on Slack.
        session.add(
            Identity(
                person_id=person_id, channel="slack", external_id=SLACK_USER, chat_id=SLACK_CHAT
            )
        )

    # Questions with 👍, 👎 and a hand-off; one asked in a group, handed over by someone else.
    answer = await me.say(ASKED)
    await me.tap("👎", answer)
    await me.tap("Ask a person", answer)
    group = Chat(app.assistant, user=USER, chat="g-lab", channel="telegram", chat_type="group")
    in_group = await group.say(IN_GROUP)
    colleague = Chat(
        app.assistant, user="tg-colleague", chat="g-lab", channel="telegram", chat_type="group"
    )
    await colleague.tap("Ask a person", in_group)
    await me.tap("👍", await me.say("What does the incubator offer?"))

    # Staff answer the 👎'd question: a curated public answer with vectors.
    staff = Chat(app.assistant, user="tg-staff", chat="chat-staff", channel="telegram")
    await staff.say("/help")
    async with app.sessions.begin() as session:
        boss = await session.scalar(select(Person).order_by(Person.id.desc()))
        assert boss is not None
        boss.role = "staff"
        asked_id = await session.scalar(select(Question.id).where(Question.text == ASKED))
        group_id = await session.scalar(select(Question.id).where(Question.text == IN_GROUP))
    done = await staff.say(f"/answer {asked_id} {CURATED}")
    assert "Answered question" in done.text
    await staff.say(f"/answer {group_id} {CURATED} (for the cryostat)")

    # An RSVP with a reminder, consent to be shown, alerts and a flow left half-way.
    await me.say("/events")
    await me.tap("RSVP 1")
    await me.tap("Show me to other attendees")
    await app.planner().plan()
    async with app.sessions.begin() as session:
        opp = await session.scalar(select(Opportunity).where(Opportunity.kind == "funding_call"))
        assert opp is not None
        if await session.scalar(select(Alert).where(Alert.person_id == person_id)) is None:
            session.add(
                Alert(
                    person_id=person_id,
                    opportunity_id=opp.id,
                    organisation_id=None,
                    category="funding",
                    score=0.9,
                    reasons=[f"fits {ORG}"],
                )
            )
        session.add(
            Delivery(
                person_id=person_id,
                channel="telegram",
                chat_id=CHAT,
                kind="alert",
                item_key=f"opp:{opp.id}",
                category="funding",
                opportunity_id=opp.id,
                payload={"text": f"A call for {ORG}"},
                status="sent",
                due_at=utcnow() - timedelta(hours=1),
            )
        )
        await set_state(session, "slack", SLACK_USER, flow="profile", step="sectors")
        # Rows of the scouting and broadcast features, written as those features do: the
        # notices to staff and to a counterpart name the requester.
        request = ScoutingRequest(
            person_id=person_id,
            organisation_id=(await session.scalar(select(Organisation.id))),
            technology="zebrafish toxicity",
            partner_type="cro",
            text=SCOUTING,
        )
        session.add(request)
        await session.flush()
        candidate = ScoutingCandidate(request_id=request.id, opportunity_id=opp.id, score=0.8)
        session.add(candidate)
        await session.flush()
        colleague_id = await session.scalar(
            select(Identity.person_id).where(Identity.external_id == "tg-colleague")
        )
        assert colleague_id is not None
        for to, key, words in (
            (boss.id, f"scouting:{request.id}", f"New scouting request from {NAME} ({ORG})"),
            (colleague_id, f"scouting-contact:{candidate.id}", f"Name: {NAME}; contact @{USER}"),
        ):
            session.add(
                Delivery(
                    person_id=to,
                    channel="telegram",
                    chat_id="chat-other",
                    kind="notice",
                    item_key=key,
                    payload={"text": words},
                    status="sent",
                )
            )
        broadcast = Broadcast(author_id=boss.id, author="person:staff", text="Winter school")
        session.add(broadcast)
        await session.flush()
        session.add(BroadcastPress(broadcast_id=broadcast.id, person_id=person_id, button="x"))
    curated = await _curated_vectors(app, [asked_id, group_id])
    assert curated, "the curated answers were indexed"
    assert curated <= app.index.ids()
    return person_id, curated


async def _curated_vectors(app: App, question_ids: list[Any]) -> set[str]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(Chunk.vector_id)
            .join(Document, Document.id == Chunk.document_id)
            .join(Source, Source.id == Document.source_id)
            .where(Source.uri.in_([curated_uri(int(q)) for q in question_ids]))
        )
        return set(rows)


def _needles() -> list[str]:
    refs = [user_reference("telegram", USER), user_reference("slack", SLACK_USER)]
    return [USER, CHAT, SLACK_USER, SLACK_CHAT, NAME, ORG, ASKED, IN_GROUP, SCOUTING] + [
        r for r in refs if r
    ]


async def _leftovers(app: App, person_id: int) -> list[str]:
    """Every place in the database that still names or points at the person."""
    found = []
    needles = _needles()
    async with app.sessions() as session:
        for table in Base.metadata.sorted_tables:
            person_columns = [
                c.name
                for c in table.columns
                if any(fk.column.table.name == "people" for fk in c.foreign_keys)
                or (table.name == "people" and c.name == "id")
            ]
            for row in (await session.execute(select(table))).mappings():
                for name in person_columns:
                    if row[name] == person_id:
                        found.append(f"{table.name}.{name} = {person_id}")
                flat = json.dumps(dict(row), default=str, ensure_ascii=False)
                found += [f"{table.name}: {n!r}" for n in needles if n in flat]
        # On SQLite the lexical index is a table of its own (FTS5); on PostgreSQL it is an
        # index over the chunks table, already scanned above.
        if session.get_bind().dialect.name == "sqlite":
            rows = await session.execute(text("SELECT title, section, text FROM chunks_fts"))
            for fts in rows:
                flat = " ".join(str(v) for v in fts)
                found += [f"chunks_fts: {n!r}" for n in needles if n in flat]
    return found


async def test_forget_leaves_nothing_in_the_database_or_the_vector_store(app: App) -> None:
    person_id, curated = await _everything(app)
    assert await _leftovers(app, person_id), "the scan finds the person before /forget"

    me = Chat(app.assistant, user=USER, chat=CHAT, channel="telegram")
    await me.say("/forget")
    reply = await me.tap("Yes, erase everything")
    assert "erased" in reply.text

    left = await _leftovers(app, person_id)
    assert left == [], "\n".join(left)
    held = app.index.ids()
    assert not (curated & held), "curated answers built from their questions are gone"
    async with app.sessions() as session:
        assert held == await all_vector_ids(session), "no vector outlives its chunk"
        (entry,) = await session.scalars(select(AuditEntry).where(AuditEntry.action == "erase"))
    # The audit log keeps the fact under a pseudonymous reference, nothing more.
    assert entry.subject == f"person:{person_id}"
    assert entry.detail["curated_answers"] == 2
