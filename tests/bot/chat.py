"""Talk to the assistant the way an adapter does, without a platform in between."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.messages import ChatType, Incoming, Reply, Responder

_ids = itertools.count(1)


@dataclass
class Chat:
    """One person in one chat; remembers the last reply so buttons can be tapped."""

    assistant: Responder
    user: str = "u1"
    chat: str = "c1"
    channel: str = "test"
    chat_type: ChatType = "private"
    last: Reply | None = None
    history: list[Reply] = field(default_factory=list)

    async def say(self, text: str) -> Reply:
        msg = Incoming.parse(
            channel=self.channel,
            user_id=self.user,
            chat_id=self.chat,
            text=text,
            chat_type=self.chat_type,
            event_id=str(next(_ids)),
        )
        return self._keep(await self.assistant.respond(msg))

    async def tap(self, label: str, reply: Reply | None = None) -> Reply:
        under = reply or self.last
        assert under is not None, "nothing to tap under"
        matches = [b for b in under.buttons if label in b.label]
        assert matches, f"no button {label!r} in {[b.label for b in under.buttons]}"
        button = matches[0]
        msg = Incoming.pressed(
            channel=self.channel,
            user_id=self.user,
            chat_id=self.chat,
            action=button.action,
            payload=button.payload,
            chat_type=self.chat_type,
            event_id=str(next(_ids)),
        )
        return self._keep(await self.assistant.respond(msg))

    def _keep(self, reply: Reply | None) -> Reply:
        assert reply is not None
        self.last = reply
        self.history.append(reply)
        return reply

    def labels(self) -> list[str]:
        assert self.last is not None
        return [b.label for b in self.last.buttons]


async def onboard(chat: Chat, *, country: str = "Germany", org_type: str = "SME") -> None:
    """Go through /start with a diagnostics SME profile."""
    await chat.say("/start")
    await chat.say("Acme Diagnostics GmbH")
    await chat.say(country)
    await chat.tap(org_type)
    await chat.tap("10-49")
    await chat.say("diagnostics, digital health")
    await chat.say("sepsis, oncology")
    await chat.say("biomarkers, point-of-care")
    await chat.tap("Prototype")
    await chat.tap("Funding")
    await chat.tap("Done")
    await chat.tap("Yes, as they appear")
