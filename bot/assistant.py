"""The assistant as every channel sees it: who is asking, what they may see, the reply.

Adapters call :meth:`Assistant.respond` with an ``Incoming``. It answers a redelivered update
once, resolves the person behind the account (and their role and organisation), decides what
they may see, and hands the message to the router. One person's messages are taken one at a
time, in the order they came (bot/turns.py); different people are answered side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.config import AlertSettings
from bot.context import Caller, Context, Role
from bot.messages import Incoming, Reply
from bot.router import Router, apology
from bot.turns import Turns
from knowledge.answer import Answerer
from knowledge.clock import Clock
from knowledge.match import Matcher
from knowledge.vectors import VectorIndex
from storage.engine import SessionFactory
from storage.events import claim_event
from storage.models import Organisation
from storage.people import get_state, person_for

logger = logging.getLogger(__name__)


class Assistant:
    """Turns incoming messages into replies, for any channel (a ``Responder``)."""

    def __init__(
        self,
        *,
        router: Router,
        answerer: Answerer,
        sessions: SessionFactory,
        clock: Clock,
        staff: Iterable[str] = (),
        admins: Iterable[str] = (),
        console_audiences: tuple[str, ...] | None = None,
        alerts: AlertSettings | None = None,
        timezone: str = "Europe/Berlin",
        matcher: Matcher | None = None,
        index: VectorIndex | None = None,
    ) -> None:
        self._router = router
        self._answerer = answerer
        self._sessions = sessions
        self._clock = clock
        self._staff = frozenset(staff)
        self._admins = frozenset(admins)
        self._console_audiences = console_audiences
        self._alerts = alerts or AlertSettings()
        self._timezone = timezone
        self._matcher = matcher
        self._index = index
        self._turns = Turns()

    @property
    def commands(self) -> frozenset[str]:
        """Command names the router knows."""
        return self._router.commands

    async def respond(self, msg: Incoming) -> Reply | None:
        """The reply to a message, or None for an update already answered."""
        async with self._turns.hold((msg.channel, msg.user_id)):
            return await self._respond(msg)

    async def _respond(self, msg: Incoming) -> Reply | None:
        try:
            caller = await self._caller(msg)
        except Exception:
            reply = apology()
            logger.exception("could not take a %s message (ref %s)", msg.channel, reply.reference)
            return reply
        if caller is None:
            logger.info("ignored redelivered %s event", msg.channel)
            return None
        audiences = caller.audiences
        if msg.channel == "console" and self._console_audiences is not None:
            audiences = self._console_audiences
        ctx = Context(
            answerer=self._answerer,
            clock=self._clock,
            sessions=self._sessions,
            caller=caller,
            audiences=audiences,
            alerts=self._alerts,
            timezone=self._timezone,
            matcher=self._matcher,
            index=self._index,
        )
        return await self._router.dispatch(msg, ctx)

    def _configured_role(self, key: str) -> Role | None:
        if key in self._admins:
            return "admin"
        if key in self._staff:
            return "staff"
        return None

    async def _caller(self, msg: Incoming) -> Caller | None:
        """Who is asking, in one transaction with the redelivery check (None: seen before)."""
        async with self._sessions.begin() as session:
            if msg.event_id is not None and not await claim_event(
                session, msg.channel, msg.event_id
            ):
                return None
            person = await person_for(
                session,
                channel=msg.channel,
                external_id=msg.user_id,
                chat_id=msg.chat_id if msg.chat_type == "private" else None,
                display_name=msg.display_name,
            )
            org = (
                await session.get(Organisation, person.organisation_id)
                if person.organisation_id
                else None
            )
            state = await get_state(session, msg.channel, msg.user_id)
            configured = self._configured_role(f"{msg.channel}:{msg.user_id}")
            roles = {configured, person.role}
            role: Role = "admin" if "admin" in roles else "staff" if "staff" in roles else "member"
            return Caller(
                channel=msg.channel,
                user_id=msg.user_id,
                chat_id=msg.chat_id,
                chat_type=msg.chat_type,
                person_id=person.id,
                role=role,
                organisation_id=org.id if org else None,
                member_organisation=bool(org and org.is_member),
                flow=state.flow if state is not None and not state.paused else None,
            )


__all__ = ["Assistant"]
