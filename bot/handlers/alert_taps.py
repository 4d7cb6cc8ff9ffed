"""The buttons under an alert: save it, "I'm applying", and three kinds of feedback.

Saving (or applying) plans deadline reminders; feedback tunes the organisation's future
matches and gives staff the precision of each category.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.alert_messages import APPLY, FEEDBACK
from bot.context import Context
from bot.handlers.common import parse_id
from bot.messages import Incoming, Reply
from bot.reminders import schedule_reminders
from storage.models import Alert, Opportunity, Source, utcnow
from storage.people import audit

ANSWERS = {
    "relevant": "relevant",
    "not_for_us": "not for us",
    "already_knew": "already known",
}


async def alert_tap(msg: Incoming, ctx: Context) -> Reply:
    """Save, applying, or feedback on one alert of the caller's."""
    assert msg.tap is not None
    action = msg.tap.action
    value, _, ref = (
        msg.tap.payload.rpartition(":") if action == FEEDBACK else ("", "", msg.tap.payload)
    )
    alert_id = parse_id(ref)
    if alert_id is None or (action == FEEDBACK and value not in ANSWERS):
        return Reply("That button no longer works.")
    async with ctx.sessions.begin() as session:
        alert = await session.get(Alert, alert_id)
        if alert is None or alert.person_id != ctx.caller.person_id:
            return Reply("That alert is no longer on record; /calls shows what fits you now.")
        opp = await session.get_one(Opportunity, alert.opportunity_id)
        if action == FEEDBACK:
            alert.feedback, alert.feedback_at = value, utcnow()
            await audit(
                session,
                actor=f"person:{alert.person_id}",
                action="alert_feedback",
                subject=f"alert:{alert.id}",
                detail={"value": value},
            )
            tail = " I'll show you fewer like it." if value == "not_for_us" else ""
            return Reply(f"Thanks: {opp.title} noted as {ANSWERS[value]}.{tail}")
        alert.saved = True
        if action == APPLY:
            alert.applying = True
        source = await session.scalar(select(Source.uri).where(Source.id == opp.source_id))
        queued = 0
        if ctx.caller.chat_type == "private":
            queued = await schedule_reminders(
                session,
                alert=alert,
                opportunity=opp,
                source=source or "",
                channel=ctx.caller.channel,
                chat_id=ctx.caller.chat_id,
                now=ctx.clock.now(),
                today=ctx.clock.today(),
                tz=ctx.timezone,
                settings=ctx.alerts,
            )
    days = ", ".join(str(d) for d in sorted(ctx.alerts.reminder_days, reverse=True))
    lead = "Good luck with the application!" if action == APPLY else "Saved."
    if queued:
        return Reply(f"{lead} I'll remind you {days} days before each deadline of {opp.title}.")
    return Reply(f"{lead} No deadline of {opp.title} is far enough ahead for a reminder.")


__all__ = ["ANSWERS", "alert_tap"]
