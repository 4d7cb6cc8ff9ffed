"""Channel-neutral messages: what adapters turn platform updates into, and replies back.

Adapters see only these types and the two protocols at the bottom: a ``Responder`` (the
assistant, which turns an ``Incoming`` into a ``Reply``) and a ``Sender`` (the adapter's own
way of putting a ``Reply`` into a chat, used for replies and for proactive deliveries).
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

ChatType = Literal["private", "group"]


@dataclass(frozen=True)
class Tap:
    """A button pressed under an earlier reply: the button's action and payload."""

    action: str
    payload: str = ""


@dataclass(frozen=True)
class Incoming:
    """A message (or a button tap) from a person, on any channel.

    ``command`` is set for ``/command args`` messages (without the slash or a bot name);
    ``text`` always holds the full text. ``chat_type`` is ``group`` for any chat other
    people can read (Telegram groups, Slack channels): there only public documents are used.
    ``event_id`` is the platform's delivery id (Telegram ``update_id``, Slack ``event_id``),
    used to answer a redelivered update once.
    """

    channel: str
    user_id: str
    chat_id: str
    text: str
    command: str | None = None
    args: str = ""
    chat_type: ChatType = "private"
    event_id: str | None = None
    tap: Tap | None = None
    display_name: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        channel: str,
        user_id: str,
        chat_id: str,
        text: str,
        chat_type: ChatType = "private",
        event_id: str | None = None,
        display_name: str | None = None,
    ) -> Incoming:
        """Build an incoming message, splitting ``/command@bot args`` into its parts."""
        stripped = text.strip()
        command: str | None = None
        args = ""
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            command, args = head.split("@")[0].lower(), rest.strip()
        return cls(
            channel=channel,
            user_id=user_id,
            chat_id=chat_id,
            text=stripped,
            command=command,
            args=args,
            chat_type=chat_type,
            event_id=event_id,
            display_name=display_name,
        )

    @classmethod
    def pressed(
        cls,
        *,
        channel: str,
        user_id: str,
        chat_id: str,
        action: str,
        payload: str = "",
        chat_type: ChatType = "private",
        event_id: str | None = None,
        display_name: str | None = None,
    ) -> Incoming:
        """A button tap, routed by its action."""
        return cls(
            channel=channel,
            user_id=user_id,
            chat_id=chat_id,
            text="",
            chat_type=chat_type,
            event_id=event_id,
            tap=Tap(action, payload),
            display_name=display_name,
        )


@dataclass(frozen=True)
class SourceRef:
    """A numbered source under a reply, as data: each adapter renders it its own way."""

    n: int
    title: str
    source: str
    url: str | None = None
    section: str | None = None
    record_id: str | None = None
    status_today: str | None = None
    deadlines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Button:
    """A button under a reply; pressing it comes back as ``Incoming.tap``.

    ``action`` and ``payload`` together stay under 60 bytes (Telegram's callback data limit
    is 64); ``url`` makes a link button instead, which is never routed back.
    """

    label: str
    action: str
    payload: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply, e.g. an event's ``.ics``."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """What a handler returns: text, the sources it rests on, buttons and files."""

    text: str
    sources: tuple[SourceRef, ...] = ()
    buttons: tuple[Button, ...] = ()
    reference: str | None = None
    attachments: tuple[Attachment, ...] = ()


def reply_to_data(reply: Reply) -> dict[str, Any]:
    """A reply as JSON-ready data, to keep in the outbox until it is sent."""
    return {
        "text": reply.text,
        "sources": [asdict(ref) | {"deadlines": list(ref.deadlines)} for ref in reply.sources],
        "buttons": [asdict(button) for button in reply.buttons],
        "attachments": [
            {
                "filename": a.filename,
                "mime_type": a.mime_type,
                "content": base64.b64encode(a.content).decode(),
            }
            for a in reply.attachments
        ],
    }


def reply_from_data(data: dict[str, Any]) -> Reply:
    """The reply :func:`reply_to_data` stored.

    Raises:
        ValueError: the data is not a stored reply (names what is missing).
    """
    if not isinstance(data.get("text"), str):
        raise ValueError("stored reply has no text")
    return Reply(
        text=data["text"],
        sources=tuple(
            SourceRef(**{**ref, "deadlines": tuple(ref.get("deadlines", ()))})
            for ref in data.get("sources", [])
        ),
        buttons=tuple(Button(**button) for button in data.get("buttons", [])),
        attachments=tuple(
            Attachment(a["filename"], base64.b64decode(a["content"]), a["mime_type"])
            for a in data.get("attachments", [])
        ),
    )


class Responder(Protocol):
    """The assistant as adapters see it."""

    @property
    def commands(self) -> frozenset[str]:
        """Command names the router knows (without the slash)."""
        ...

    async def respond(self, msg: Incoming) -> Reply | None:
        """The reply to a message; None when there is nothing to send (e.g. a redelivery)."""
        ...


class Sender(Protocol):
    """An adapter's way of putting a reply into a chat.

    Platform failures leave as ``bot.errors.DeliveryError`` (``permanent`` for a blocked bot or
    a deleted chat; otherwise transient, with ``retry_after`` when the platform said so).
    """

    channel: str

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Send a reply; returns the platform's id of the (first) message sent."""
        ...


__all__ = [
    "Attachment",
    "Button",
    "ChatType",
    "Incoming",
    "Reply",
    "Responder",
    "Sender",
    "SourceRef",
    "Tap",
    "reply_from_data",
    "reply_to_data",
]
