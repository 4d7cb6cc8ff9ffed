"""What handlers get besides the message: the services, and who is asking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.config import AlertSettings
from bot.messages import ChatType
from knowledge.answer import Answerer, user_reference
from knowledge.clock import Clock
from knowledge.match import Matcher
from knowledge.vectors import VectorIndex
from storage.engine import SessionFactory

Role = Literal["member", "staff", "admin"]
ROLES: tuple[Role, ...] = ("member", "staff", "admin")


@dataclass(frozen=True)
class Caller:
    """The person behind a message, as the core knows them."""

    channel: str
    user_id: str
    chat_id: str
    chat_type: ChatType
    person_id: int
    role: Role = "member"
    organisation_id: int | None = None
    member_organisation: bool = False
    # The multi-step flow the person is in when the message arrived (None: none, or paused).
    flow: str | None = None

    @property
    def is_staff(self) -> bool:
        """Staff and admins."""
        return self.role in ("staff", "admin")

    @property
    def audiences(self) -> tuple[str, ...]:
        """What this person may see here: shared chats only ever see public documents."""
        if self.chat_type == "group":
            return ("public",)
        if self.is_staff:
            return ("public", "members", "staff")
        if self.member_organisation:
            return ("public", "members")
        return ("public",)

    @property
    def user_ref(self) -> str | None:
        """The pseudonym questions are recorded under."""
        return user_reference(self.channel, self.user_id)


@dataclass(frozen=True)
class Context:
    """Services a handler may use, and who is asking (with what they may see)."""

    answerer: Answerer
    clock: Clock
    sessions: SessionFactory
    caller: Caller
    audiences: tuple[str, ...] = ("public",)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    timezone: str = "Europe/Berlin"
    matcher: Matcher | None = None
    # For handlers that add curated sources (a staff answer) and must index them at once.
    index: VectorIndex | None = None


__all__ = ["ROLES", "Caller", "Context", "Role"]
