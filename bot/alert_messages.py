"""The words of proactive messages: a new match, an update, a digest, a reminder.

Each is a ``Reply`` like any other, so every channel renders it its own way; buttons carry
the alert's id so a tap can be traced back to the match it answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.messages import Button, Reply, SourceRef
from bot.opportunities import opportunity_ref
from storage.models import Opportunity

SAVE = "al_save"
APPLY = "al_apply"
FEEDBACK = "al_fb"
STOP = "stop"
MAX_DIGEST_ITEMS = 10


@dataclass(frozen=True)
class AlertItem:
    """What a message needs to know about one matched opportunity."""

    alert_id: int
    opportunity: Opportunity
    source: str
    score: float
    status_today: str
    deadlines: tuple[date, ...]
    reasons: tuple[str, ...]


def _when(item: AlertItem, today: date) -> str:
    ahead = [d for d in item.deadlines if d >= today]
    if item.status_today == "forthcoming":
        opens = item.opportunity.opening_date
        head = f"opens {opens.isoformat()}" if opens else "opens soon"
    else:
        head = "open"
    if not ahead:
        return head
    days = (ahead[0] - today).days
    return f"{head}, deadline {ahead[0].isoformat()} ({days} days left)"


def _source(n: int, item: AlertItem) -> SourceRef:
    return opportunity_ref(
        n,
        item.opportunity,
        source=item.source,
        status_today=item.status_today,
        deadlines=item.deadlines,
    )


def alert_buttons(alert_id: int) -> tuple[Button, ...]:
    """Save, applying, the three feedback answers, and stop."""
    ref = str(alert_id)
    return (
        Button("Save", SAVE, ref),
        Button("I'm applying", APPLY, ref),
        Button("Relevant", FEEDBACK, f"relevant:{ref}"),
        Button("Not for us", FEEDBACK, f"not_for_us:{ref}"),
        Button("Already knew", FEEDBACK, f"already_knew:{ref}"),
        Button("Stop alerts", STOP),
    )


def alert_reply(item: AlertItem, *, today: date, organisation: str) -> Reply:
    """A new opportunity that fits, with the reasons it fits."""
    opp = item.opportunity
    why = "\n".join(f"• {r}" for r in item.reasons[:5])
    text = (
        f"New for {organisation or 'you'}: {opp.title} ({opp.external_id})\n"
        f"{_when(item, today).capitalize()}.\n\nWhy it fits:\n{why}"
    )
    return Reply(text, sources=(_source(1, item),), buttons=alert_buttons(item.alert_id))


def update_reply(item: AlertItem, *, today: date, changes: Sequence[str]) -> Reply:
    """An opportunity already sent has changed (deadline, budget)."""
    opp = item.opportunity
    lines = "\n".join(f"• {c}" for c in changes)
    text = f"Updated: {opp.title} ({opp.external_id})\n{lines}\nNow {_when(item, today)}."
    return Reply(text, sources=(_source(1, item),), buttons=alert_buttons(item.alert_id))


def digest_reply(items: Sequence[AlertItem], *, today: date, organisation: str) -> Reply:
    """Several matches in one message, best first; each has its own feedback buttons."""
    shown = list(items)[:MAX_DIGEST_ITEMS]
    lines = [f"Opportunities for {organisation or 'you'} since the last digest:", ""]
    buttons: list[Button] = []
    for n, item in enumerate(shown, start=1):
        opp = item.opportunity
        lines.append(f"{n}. {opp.title} ({opp.external_id}), {_when(item, today)}")
        if item.reasons:
            lines.append(f"   {'; '.join(item.reasons[:3])}")
        buttons.append(Button(f"Save {n}", SAVE, str(item.alert_id)))
        buttons.append(Button(f"Not for us {n}", FEEDBACK, f"not_for_us:{item.alert_id}"))
    if len(items) > len(shown):
        lines += ["", f"…and {len(items) - len(shown)} more: /calls shows the best ones."]
    buttons.append(Button("Stop alerts", STOP))
    sources = tuple(_source(n, item) for n, item in enumerate(shown, start=1))
    return Reply("\n".join(lines), sources=sources, buttons=tuple(buttons))


def reminder_reply(item: AlertItem, *, deadline: date, today: date, applying: bool) -> Reply:
    """A deadline of a saved (or applied-for) call is coming."""
    opp = item.opportunity
    days = (deadline - today).days
    stage = ""
    if opp.two_stage and len(item.deadlines) > 1:
        stage = " (stage 1)" if deadline == item.deadlines[0] else " (stage 2)"
    lead = "Your application" if applying else "A call you saved"
    text = (
        f"{lead}: {opp.title} ({opp.external_id}) closes{stage} on {deadline.isoformat()}, "
        f"in {days} day{'s' if days != 1 else ''}."
    )
    return Reply(text, sources=(_source(1, item),), buttons=(Button("Stop alerts", STOP),))


__all__ = [
    "APPLY",
    "FEEDBACK",
    "MAX_DIGEST_ITEMS",
    "SAVE",
    "STOP",
    "AlertItem",
    "alert_buttons",
    "alert_reply",
    "digest_reply",
    "reminder_reply",
    "update_reply",
]
