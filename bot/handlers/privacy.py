"""/mydata exports everything held about the caller; /forget erases it after a confirmation."""

from __future__ import annotations

import asyncio
import json
import logging

from sqlalchemy import select

from bot.context import Context
from bot.handlers.common import caller_records, private_only
from bot.messages import Attachment, Button, Incoming, Reply
from bot.unanswered import curated_uri
from knowledge.answer import user_reference
from storage.models import Identity
from storage.people import audit, erase_person, export_person, questions_of, scouting_of

FORGET = "forget"
# The messages of an introduction, per scouting candidate (see bot/scouting_intro.py).
_SCOUTING_STEPS = ("intro", "ask", "contact")
logger = logging.getLogger(__name__)


async def _user_refs(ctx: Context, person_id: int) -> list[str]:
    async with ctx.sessions() as session:
        rows = await session.scalars(select(Identity).where(Identity.person_id == person_id))
        refs = [user_reference(i.channel, i.external_id) for i in rows]
    return [r for r in refs if r]


async def handle_mydata(msg: Incoming, ctx: Context) -> Reply:
    """Send a JSON file with the caller's profile, settings, questions and feedback."""
    if (elsewhere := private_only(msg, "your data export")) is not None:
        return elsewhere
    refs = await _user_refs(ctx, ctx.caller.person_id)
    async with ctx.sessions.begin() as session:
        data = await export_person(session, ctx.caller.person_id, refs)
        await audit(
            session,
            actor=f"person:{ctx.caller.person_id}",
            action="export",
            subject=f"person:{ctx.caller.person_id}",
        )
    data["exported_on"] = ctx.clock.today().isoformat()
    content = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    counts = (
        f"{len(data['identities'])} account(s), {len(data['questions'])} question(s), "
        f"{len(data['subscriptions'])} alert setting(s), {len(data['feedback'])} feedback"
    )
    return Reply(
        f"Here is everything I hold about you: {counts}. /forget erases it.",
        attachments=(Attachment("clusterbot-my-data.json", content, "application/json"),),
    )


async def handle_forget(msg: Incoming, ctx: Context) -> Reply:
    """Ask for a confirmation before erasing anything."""
    if (elsewhere := private_only(msg, "erasing your data")) is not None:
        return elsewhere
    return Reply(
        "This erases your profile, your alert settings, your RSVPs and the questions you "
        "asked (with the team's answers to them), on every channel you use me on. It cannot "
        "be undone. Erase everything?",
        buttons=(Button("Yes, erase everything", FORGET, "yes"), Button("Cancel", FORGET, "no")),
    )


async def forget_tap(msg: Incoming, ctx: Context) -> Reply:
    """Erase after "yes"; do nothing after "cancel"."""
    assert msg.tap is not None
    if msg.tap.payload != "yes":
        return Reply("Nothing was erased.")
    refs = await _user_refs(ctx, ctx.caller.person_id)
    async with ctx.sessions.begin() as session:
        person, _ = await caller_records(session, ctx)
        asked = await questions_of(session, refs)
        requests, candidates = await scouting_of(session, person.id)
        # A staff answer to one of their questions is titled with their words, and its
        # notices quote them: both go with the questions. Messages to staff and
        # counterparts about their scouting requests name them (bot/scouting.py,
        # bot/scouting_intro.py): those go too.
        erased = await erase_person(
            session,
            person.id,
            refs,
            derived_sources=[curated_uri(q) for q in asked],
            derived_item_keys=[
                *(f"question:{q}" for q in asked),
                *(f"scouting:{r}" for r in requests),
                *(f"scouting-{step}:{c}" for c in candidates for step in _SCOUTING_STEPS),
            ],
        )
        # The audit entry names no one: the person is gone, only the fact remains.
        await audit(
            session,
            actor=f"person:{person.id}",
            action="erase",
            subject=f"person:{person.id}",
            detail={"questions": erased.questions, "curated_answers": erased.curated_answers},
        )
    if erased.vector_ids:
        if ctx.index is not None:
            await asyncio.to_thread(ctx.index.delete, sorted(erased.vector_ids))
        else:  # the next start reconciles the store with the database
            logger.warning("%d vectors of an erasure wait for reconcile", len(erased.vector_ids))
    return Reply(
        "Done: everything I held about you is erased. If you write again, I start from scratch."
    )


__all__ = ["FORGET", "forget_tap", "handle_forget", "handle_mydata"]
