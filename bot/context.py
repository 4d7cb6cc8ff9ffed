"""What handlers get besides the message: the services and who is asking."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.answer import Answerer
from knowledge.clock import Clock


@dataclass(frozen=True)
class Context:
    """Services a handler may use, and the asker's audiences (what they may see)."""

    answerer: Answerer
    clock: Clock
    audiences: tuple[str, ...] = ("public",)


__all__ = ["Context"]
