"""/calls: open and upcoming calls that fit the profile, never a closed one."""

from __future__ import annotations

from bot.app import App
from tests.bot.chat import Chat, onboard


async def test_without_a_profile_it_lists_live_calls_soonest_first(chat: Chat) -> None:
    reply = await chat.say("/calls")
    ids = [s.record_id for s in reply.sources]
    assert ids, reply.text
    assert "KBR-IPV-2026" not in ids  # closed on 2026-10-15
    assert all(s.status_today in ("open", "forthcoming") for s in reply.sources)
    firsts = [s.deadlines[0] for s in reply.sources]
    assert firsts == sorted(firsts)
    assert "Set up my profile" in chat.labels()


async def test_with_a_profile_it_picks_the_calls_that_fit_and_says_why(chat: Chat) -> None:
    await onboard(chat)
    reply = await chat.say("/calls")
    assert "fit Acme Diagnostics GmbH" in reply.text
    ids = [s.record_id for s in reply.sources]
    assert "KBR-SCALE-2027" in ids
    assert "sector: diagnostics" in reply.text
    assert "deadline 2027-" in reply.text
    assert "KBR-IPV-2026" not in ids


async def test_a_country_outside_the_calls_eligibility_gets_the_fallback(chat: Chat) -> None:
    await onboard(chat, country="Norway")
    reply = await chat.say("/calls")
    assert "None of the open calls matches your profile closely" in reply.text or not any(
        s.record_id and s.record_id.startswith("KBR-") for s in reply.sources
    )


async def test_in_a_group_the_profile_stays_private(app: App, chat: Chat) -> None:
    await onboard(chat)
    chat.chat_type = "group"
    reply = await chat.say("/calls")
    assert "Acme" not in reply.text
    assert "soonest deadline first" in reply.text
