"""People, identities and the redelivery guard, on the real schema."""

from __future__ import annotations

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
