"""Deadline reminders for saved calls: rows in the outbox, due days before each deadline.

They live in the database like every other message, so a restart loses none; when a
deadline moves, the pending ones are cancelled and planned again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alert_messages import AlertItem, reminder_reply
from bot.config import AlertSettings
from bot.messages import reply_to_data
from bot.schedule import next_allowed, reminder_times
from knowledge.dates import status_on
from storage.models import Alert, Delivery, Opportunity
from storage.outbox import enqueue


async def schedule_reminders(
    session: AsyncSession,
    *,
    alert: Alert,
    opportunity: Opportunity,
    source: str,
    channel: str,
    chat_id: str,
    now: datetime,
    today: date,
    tz: str,
    settings: AlertSettings,
) -> int:
    """(Re)plan the reminders of one saved alert; returns how many are queued.

    Reminders already queued for a deadline that still stands are kept; those of a deadline
    that moved are cancelled; a reminder cancelled earlier comes back if its deadline does.
    """
    prefix = f"remind:{opportunity.id}:"
    existing = {
        row.item_key: row
        for row in await session.scalars(
            select(Delivery).where(
                Delivery.person_id == alert.person_id,
                Delivery.kind == "reminder",
                Delivery.item_key.startswith(prefix),
            )
        )
    }
    deadlines = tuple(date.fromisoformat(d) for d in opportunity.deadlines)
    status = status_on(
        today,
        opening_date=opportunity.opening_date,
        deadlines=deadlines,
        two_stage=opportunity.two_stage,
        recorded=opportunity.status,
    )
    wanted: dict[str, tuple[datetime, dict[str, object]]] = {}
    if status != "closed":
        item = AlertItem(
            alert.id, opportunity, source, alert.score, status, deadlines, tuple(alert.reasons)
        )
        # Two-stage calls get reminders per stage; other calls per cut-off still ahead.
        for deadline in (d for d in deadlines if d >= today):
            for lead, at in reminder_times(
                deadline, settings.reminder_days, now=now, tz=tz, hour=settings.digest_hour
            ):
                reply = reminder_reply(
                    item,
                    deadline=deadline,
                    today=deadline - timedelta(days=lead),
                    applying=alert.applying,
                )
                key = f"{prefix}{deadline.isoformat()}:{lead}"
                wanted[key] = (
                    next_allowed(at, tz=tz, quiet=settings.quiet_hours),
                    reply_to_data(reply),
                )
    for key, stale in existing.items():
        if key not in wanted and stale.status == "pending":
            stale.status, stale.last_error = "cancelled", "the deadline changed"
    queued = 0
    for key, (due, payload) in wanted.items():
        row = existing.get(key)
        if row is not None:
            if row.status == "cancelled":
                row.status, row.due_at, row.payload = "pending", due, payload
                queued += 1
            elif row.status == "pending":
                row.due_at, row.payload = due, payload
                queued += 1
            continue
        if await enqueue(
            session,
            person_id=alert.person_id,
            channel=channel,
            chat_id=chat_id,
            kind="reminder",
            item_key=key,
            category=alert.category,
            payload=payload,
            due_at=due,
            opportunity_id=opportunity.id,
        ):
            queued += 1
    return queued


__all__ = ["schedule_reminders"]
