"""A broadcast to 10 000 people through the real delivery worker, ending with exact figures.

People, organisations, identities and consents are written with bulk inserts; half are on
Telegram, half on Slack, each platform a fake on 127.0.0.1 through the real client library.
Some chats refuse the bot (403 / channel_not_found), some people press /stop after the
broadcast was queued, and some never matched: the figures must count each exactly.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import insert, update

from bot.broadcast_spec import parse_request
from bot.broadcasts import confirm, create, status
from bot.config import DeliverySettings, Settings
from bot.delivery import DeliveryWorker
from bot.messages import Incoming, Reply
from bot.slack import SlackChannel
from bot.telegram import TelegramChannel
from storage import SessionFactory
from storage.models import Identity, Organisation, Person, Subscription
from storage.outbox import counts
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.telegram_api import FakeTelegram

RECIPIENTS = 10_000
ELSEWHERE = 500  # in another country: not in the segment
NO_CONSENT = 200  # in the segment, but never subscribed to announcements
BLOCKED_TELEGRAM = 50
BLOCKED_SLACK = 20
STOPPED = 30


class Silent:
    """A responder for channels that only send."""

    commands = frozenset[str]()

    async def respond(self, msg: Incoming) -> Reply | None:
        return None


def chat_of(n: int) -> tuple[str, str]:
    """Person n's channel and private chat: even on Telegram, odd on Slack."""
    return ("telegram", str(100_000 + n)) if n % 2 == 0 else ("slack", f"D{n:07d}")


async def populate(sessions: SessionFactory) -> None:
    """Organisations of 10 people each, with bulk inserts (one statement per table)."""
    total = RECIPIENTS + ELSEWHERE + NO_CONSENT
    orgs: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    for n in range(total):
        org_id = n // 10 + 1
        if n % 10 == 0:
            elsewhere = RECIPIENTS <= n < RECIPIENTS + ELSEWHERE
            orgs.append(
                {
                    "id": org_id,
                    "name": f"Org {org_id}",
                    "join_code": f"J{org_id:07d}",
                    "country": "FR" if elsewhere else ("DE" if org_id % 2 else "DK"),
                    "sectors": ["Diagnostics", "digital health"],
                    "networks": [],
                }
            )
        people.append({"id": n + 1, "organisation_id": org_id, "display_name": f"p{n}"})
        channel, chat = chat_of(n)
        identities.append(
            {"person_id": n + 1, "channel": channel, "external_id": chat, "chat_id": chat}
        )
        if n < RECIPIENTS + ELSEWHERE:
            consents.append({"person_id": n + 1, "category": "news", "active": True})
    async with sessions.begin() as session:
        await session.execute(insert(Organisation), orgs)
        await session.execute(insert(Person), people)
        await session.execute(insert(Identity), identities)
        await session.execute(insert(Subscription), consents)


async def test_a_broadcast_to_10000_people_ends_with_exact_figures(
    sessions: SessionFactory,
) -> None:
    await populate(sessions)
    request = parse_request(
        "sector=diagnostics country=DE,DK | The Digital Health Network meets on 9 December."
        " | Register=https://example.org/register",
        timezone="Europe/Berlin",
    )
    started = time.perf_counter()
    draft = await create(sessions, request, author="person:1", author_id=1)
    assert draft.counts == {"slack": RECIPIENTS // 2, "telegram": RECIPIENTS // 2}
    queued = await confirm(sessions, draft.view.id, actor="person:1", actor_id=1)
    queue_s = time.perf_counter() - started
    assert (queued.status, queued.recipients) == ("queued", RECIPIENTS)

    # Some people say /stop after the broadcast was queued: their rows are skipped.
    stopped = [n + 1 for n in range(1, 2 * STOPPED, 2)]  # Slack people, never refused below
    async with sessions.begin() as session:
        await session.execute(update(Person).where(Person.id.in_(stopped)).values(stopped=True))
        await session.execute(
            update(Subscription).where(Subscription.person_id.in_(stopped)).values(active=False)
        )

    async with FakeTelegram() as telegram_api, FakeSlack() as slack_api:
        for n in range(0, 2 * BLOCKED_TELEGRAM, 2):
            telegram_api.block(chat_of(n)[1])
        # The first Slack posts find their conversation gone.
        slack_api.fail_next("chat.postMessage", status="channel_not_found", times=BLOCKED_SLACK)
        telegram = TelegramChannel(
            settings=Settings(
                telegram_token=telegram_api.token, telegram_api_url=telegram_api.base_url
            ),
            responder=Silent(),
        )
        slack = SlackChannel(
            settings=Settings(slack_bot_token=BOT_TOKEN, slack_api_url=slack_api.api_url),
            responder=Silent(),
        )
        await telegram.start(receive=False)
        await slack.start(receive=False)
        try:
            worker = DeliveryWorker(
                sessions=sessions,
                senders={"telegram": telegram, "slack": slack},
                settings=DeliverySettings(
                    telegram_per_second=100_000.0,
                    slack_per_second=100_000.0,
                    batch=2_000,
                    idle_poll_s=0.05,
                    backoff_base_s=0.01,
                    backoff_max_s=0.05,
                ),
            )
            sending = time.perf_counter()
            for _ in range(200):
                await worker.run_once()
                async with sessions() as session:
                    left = await counts(session)
                if not left.get("pending") and not left.get("sending"):
                    break
            send_s = time.perf_counter() - sending
        finally:
            await telegram.stop()
            await slack.stop()

    view, found = await status(sessions, draft.view.id)
    sent = RECIPIENTS - BLOCKED_TELEGRAM - BLOCKED_SLACK - STOPPED
    assert view.status == "done"
    assert found.queued == RECIPIENTS
    assert found.sent == sent
    assert found.blocked == BLOCKED_TELEGRAM + BLOCKED_SLACK
    assert found.skipped == STOPPED
    assert (found.failed, found.pending, found.cancelled) == (0, 0, 0)
    assert len(telegram_api.sent) + len(slack_api.sent) == sent
    assert found.by_channel == {"slack": RECIPIENTS // 2, "telegram": RECIPIENTS // 2}
    print(f"\nqueued 10k in {queue_s:.2f}s, delivered in {send_s:.1f}s")
