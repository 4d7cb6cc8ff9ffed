"""People, identities and the redelivery guard, on the real schema."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage import create_engine, session_factory, upgrade
from storage.events import claim_event, forget_events_before
from storage.models import Identity, Person, utcnow
from storage.people import (
    clear_state,
    create_organisation,
    get_state,
    organisation_by_code,
    person_for,
    set_state,
)


async def test_people_events_and_states(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as session:
            first = await person_for(
                session, channel="telegram", external_id="1", chat_id="1", display_name="Ann"
            )
            again = await person_for(
                session, channel="telegram", external_id="1", chat_id="1", display_name=None
            )
            assert first.id == again.id
            assert again.display_name == "Ann"
            org = await create_organisation(session, "Acme")
            assert await organisation_by_code(session, org.join_code.lower().replace("-", " "))
            assert await organisation_by_code(session, "nope") is None
            await set_state(session, "telegram", "1", flow="onboarding", step="country")
        async with sessions.begin() as session:
            state = await get_state(session, "telegram", "1")
            assert state is not None
            assert (state.flow, state.step) == ("onboarding", "country")
            await clear_state(session, "telegram", "1")
            assert await get_state(session, "telegram", "1") is None
            assert await claim_event(session, "telegram", "7")
            assert not await claim_event(session, "telegram", "7")
            assert await claim_event(session, "slack", "7")
        async with sessions.begin() as session:
            assert await forget_events_before(session, utcnow() + timedelta(seconds=1)) == 2
            assert await claim_event(session, "telegram", "7")
            count = await session.scalar(select(func.count()).select_from(Identity))
            people = await session.scalar(select(func.count()).select_from(Person))
            assert (count, people) == (1, 1)
    finally:
        await engine.dispose()


async def test_one_account_added_by_two_processes_at_once_is_one_person(db_url: str) -> None:
    """Two engines stand for two bot processes that get the same new account's first
    messages at once: the second waits for the first and then uses its person."""
    engines = [create_engine(db_url) for _ in range(2)]
    await upgrade(engines[0])
    first, second = (session_factory(engine) for engine in engines)
    account = {"channel": "telegram", "external_id": "77", "chat_id": "77"}
    try:
        async with first.begin() as session:
            added = await person_for(session, **account, display_name="Ann")

            async def meanwhile() -> int:
                async with second.begin() as other:
                    return (await person_for(other, **account, display_name="Ann")).id

            racing = asyncio.create_task(meanwhile())
            await asyncio.sleep(0.3)  # the second insert now waits on the first's transaction
            assert not racing.done()
        assert await asyncio.wait_for(racing, 15) == added.id
        async with first() as session:
            count = await session.scalar(select(func.count()).select_from(Identity))
            people = await session.scalar(select(func.count()).select_from(Person))
        assert (count, people) == (1, 1)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_setting_a_state_another_message_just_cleared_writes_it_again(
    db_url: str,
) -> None:
    engine = create_engine(db_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as session:
            await set_state(session, "slack", "U1", flow="onboarding", step="country")
        async with sessions.begin() as session:
            seen = await get_state(session, "slack", "U1")  # this message read the state...
            assert seen is not None
            async with sessions.begin() as other:  # ...another one ended the flow meanwhile
                await clear_state(other, "slack", "U1")
            state = await set_state(
                session, "slack", "U1", flow=seen.flow, step=seen.step, paused=True
            )
            assert (state.step, state.paused) == ("country", True)
        async with sessions() as session:
            stored = await get_state(session, "slack", "U1")
            assert stored is not None
            assert (stored.flow, stored.step, stored.paused) == ("onboarding", "country", True)
    finally:
        await engine.dispose()
