"""Channel-neutral messages: what adapters turn platform updates into, and replies back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Incoming:
    """A message from a person, on any channel.

    ``command`` is set for ``/command args`` messages (without the slash or a bot name);
    ``text`` always holds the full text.
    """

    channel: str
    user_id: str
    chat_id: str
    text: str
    command: str | None = None
    args: str = ""

    @classmethod
    def parse(cls, *, channel: str, user_id: str, chat_id: str, text: str) -> Incoming:
        """Build an incoming message, splitting ``/command@bot args`` into its parts."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            return cls(
                channel, user_id, chat_id, stripped, head.split("@")[0].lower(), rest.strip()
            )
        return cls(channel, user_id, chat_id, stripped)


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
    """A button under a reply; ``action`` is routed back as a callback."""

    label: str
    action: str
    payload: str = ""


@dataclass(frozen=True)
class Reply:
    """What a handler returns: text, the sources it rests on, and buttons."""

    text: str
    sources: tuple[SourceRef, ...] = ()
    buttons: tuple[Button, ...] = ()
    reference: str | None = None


__all__ = ["Button", "Incoming", "Reply", "SourceRef"]
