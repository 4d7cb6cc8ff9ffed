"""What matching returns: a match, its score, and reasons a person can check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.models import Opportunity


@dataclass(frozen=True)
class Reason:
    """Why an opportunity fits, with the passage of the opportunity that shows it.

    ``passage`` is the sentence or line of the opportunity's text that supports the reason
    (None when the reason comes from the profile or the person's feedback alone), and
    ``chunk_id`` the chunk it was taken from (None for structured fields only).
    """

    text: str
    passage: str | None = None
    chunk_id: str | None = None


@dataclass(frozen=True)
class Match:
    """An opportunity that fits a profile: score in [0, 1], status on the day, reasons.

    ``deadlines`` are all the opportunity's deadlines in stage order; ``as_of`` is the day
    the match was made for, which :attr:`next_deadline` counts from.
    """

    opportunity: Opportunity
    source: str
    score: float
    status_today: str
    deadlines: tuple[date, ...]
    reasons: tuple[Reason, ...]
    as_of: date | None = None

    @property
    def next_deadline(self) -> date | None:
        """The first deadline on or after the day of the match (else the last one)."""
        if not self.deadlines:
            return None
        if self.as_of is not None:
            ahead = [d for d in self.deadlines if d >= self.as_of]
            if ahead:
                return ahead[0]
        return self.deadlines[-1] if self.as_of is not None else self.deadlines[0]

    @property
    def reason_texts(self) -> tuple[str, ...]:
        """The reasons as plain sentences."""
        return tuple(r.text for r in self.reasons)


__all__ = ["Match", "Reason"]
