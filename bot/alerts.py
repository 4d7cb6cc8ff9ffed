"""Alerts: new and changed opportunities matched to the people who asked for them.

The planner runs after ingestion (and periodically in ``serve``/``deliver``). It reads what
changed since its last run, matches those opportunities against every consenting person's
company profile, and writes, in one transaction, an ``Alert`` per match and the outbox rows
that follow from the person's choices: strong matches at once (outside quiet hours, within
the weekly cap), the rest into their digest. A changed deadline or budget of an opportunity
already sent becomes an "updated" message; a closed one is never sent, and any message about
it still queued is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alert_messages import (
    AlertItem,
    alert_reply,
    digest_reply,
    update_reply,
)
from bot.config import AlertSettings
from bot.handlers.fields import profile_of
from bot.messages import Reply, reply_to_data
from bot.reminders import schedule_reminders
from bot.schedule import digest_period, next_allowed, next_digest
from knowledge.clock import Clock
from knowledge.match import Match, Matcher
from knowledge.match.filters import deadlines_of, status_today
from knowledge.profile import CATEGORY_OF_KIND, Profile
from storage.alerts import (
    Recipient,
    alerted,
    changes_since,
    feedback_of,
    recipients,
    sent_in_window,
    touched_since,
)
from storage.engine import SessionFactory
from storage.models import Alert, Delivery, Opportunity, Source, utcnow
from storage.outbox import cancel, enqueue
from storage.questions import get_meta, set_meta

logger = logging.getLogger(__name__)

CURSOR = "alerts_cursor"
UPDATE_FIELDS = ("deadlines", "budget_total_eur", "budget_min_eur", "budget_max_eur")
_KINDS_OF: dict[str, tuple[str, ...]] = defaultdict(tuple)
for _kind, _category in CATEGORY_OF_KIND.items():
    _KINDS_OF[_category] = (*_KINDS_OF[_category], _kind)


@dataclass
class PlanSummary:
    """What one planning run did."""

    opportunities: int = 0
    recipients: int = 0
    alerts: int = 0
    instant: int = 0
    to_digest: int = 0
    updates: int = 0
    cancelled: int = 0
    digests: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"{self.opportunities} new or changed opportunities, {self.recipients} recipients: "
            f"{self.alerts} alerts ({self.instant} now, {self.to_digest} for digests), "
            f"{self.updates} updates, {self.digests} digests, {self.cancelled} cancelled"
        )


def _audiences(recipient: Recipient) -> tuple[str, ...]:
    if recipient.person.role in ("staff", "admin"):
        return ("public", "members", "staff")
    return ("public", "members") if recipient.organisation.is_member else ("public",)


def _item(alert_id: int, match: Match) -> AlertItem:
    return AlertItem(
        alert_id=alert_id,
        opportunity=match.opportunity,
        source=match.source,
        score=match.score,
        status_today=match.status_today,
        deadlines=match.deadlines,
        reasons=tuple(r.text for r in match.reasons),
    )


def _item_of(alert: Alert, opp: Opportunity, source: str | None, today: date) -> AlertItem:
    return AlertItem(
        alert.id,
        opp,
        source or "",
        alert.score,
        status_today(opp, today),
        deadlines_of(opp),
        tuple(alert.reasons),
    )


class AlertPlanner:
    """Plans alerts, updates and digests into the outbox."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        matcher: Matcher,
        clock: Clock,
        settings: AlertSettings,
        timezone: str,
    ) -> None:
        self._sessions = sessions
        self._matcher = matcher
        self._clock = clock
        self._settings = settings
        self._timezone = timezone

    def _tz(self, recipient: Recipient) -> str:
        return recipient.person.timezone or self._timezone

    async def _queue(
        self,
        session: AsyncSession,
        recipient: Recipient,
        *,
        kind: str,
        item_key: str,
        category: str | None,
        reply: Reply,
        now: datetime,
        opportunity_id: int | None = None,
    ) -> bool:
        """Put one message for a recipient into the outbox, outside their quiet hours."""
        return await enqueue(
            session,
            person_id=recipient.person.id,
            channel=recipient.channel,
            chat_id=recipient.chat_id,
            kind=kind,
            item_key=item_key,
            category=category,
            payload=reply_to_data(reply),
            due_at=next_allowed(now, tz=self._tz(recipient), quiet=self._settings.quiet_hours),
            opportunity_id=opportunity_id,
        )

    async def plan(self) -> PlanSummary:
        """Match what changed since the last run; write alerts, updates and digests."""
        summary = PlanSummary()
        started = utcnow()  # the cursor follows the database's own timestamps
        async with self._sessions() as session:
            raw = await get_meta(session, CURSOR)
            cursor = datetime.fromisoformat(raw) if raw else None
            touched = await touched_since(session, cursor)
            people = await recipients(session)
        summary.opportunities, summary.recipients = len(touched), len(people)
        matches = await self._match(people, touched) if touched and people else {}
        async with self._sessions.begin() as session:
            await self._write_alerts(session, people, matches, summary)
            await self._write_updates(session, cursor, people, summary)
            summary.cancelled += await self._cancel_closed(session)
            summary.digests += await self._write_digests(session, people)
            await set_meta(session, CURSOR, started.isoformat())
        logger.info("alert planning: %s", summary.line())
        return summary

    async def _match(
        self, people: Sequence[Recipient], touched: Sequence[int]
    ) -> dict[int, list[Match]]:
        """Matches per person, one vectorised call per (audiences, kinds) group."""
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Recipient]] = defaultdict(list)
        for recipient in people:
            kinds = tuple(sorted(k for c in recipient.categories for k in _KINDS_OF[c]))
            if kinds and not profile_of(recipient.organisation).is_empty:
                groups[(_audiences(recipient), kinds)].append(recipient)
        today = self._clock.today()
        found: dict[int, list[Match]] = {}
        for (audiences, kinds), members in groups.items():
            profiles: list[Profile] = [profile_of(r.organisation) for r in members]
            async with self._sessions() as session:
                feedback = [await feedback_of(session, r.organisation.id) for r in members]
            results = await self._matcher.match_many(
                profiles,
                today=today,
                kinds=kinds,
                audiences=audiences,
                limit=None,
                opportunity_ids=touched,
                feedback=feedback,
                min_score=self._settings.min_score,
            )
            for recipient, result in zip(members, results, strict=True):
                found[recipient.person.id] = result
        return found

    async def _write_alerts(
        self,
        session: AsyncSession,
        people: Sequence[Recipient],
        matches: dict[int, list[Match]],
        summary: PlanSummary,
    ) -> None:
        now, today = self._clock.now(), self._clock.today()
        done = await alerted(session, [r.person.id for r in people])
        for recipient in people:
            person = recipient.person
            budget = self._settings.weekly_cap - await sent_in_window(
                session, person.id, now - timedelta(days=7)
            )
            for match in matches.get(person.id, []):
                opp = match.opportunity
                category = CATEGORY_OF_KIND.get(opp.kind, "news")
                if (person.id, opp.id) in done or category not in recipient.categories:
                    continue
                if match.score < self._settings.min_score or match.status_today == "closed":
                    continue
                alert = Alert(
                    person_id=person.id,
                    opportunity_id=opp.id,
                    organisation_id=recipient.organisation.id,
                    category=category,
                    score=match.score,
                    reasons=[r.text for r in match.reasons],
                    status="digest",
                    created_at=now,  # the planner's clock: the digest is due from it
                )
                session.add(alert)
                await session.flush()
                summary.alerts += 1
                instant = (
                    person.alert_frequency == "instant"
                    and match.score >= self._settings.instant_score
                    and budget > 0
                )
                if not instant:
                    summary.to_digest += 1
                    continue
                reply = alert_reply(
                    _item(alert.id, match), today=today, organisation=recipient.organisation.name
                )
                await self._queue(
                    session,
                    recipient,
                    kind="alert",
                    item_key=f"opp:{opp.id}",
                    category=category,
                    reply=reply,
                    now=now,
                    opportunity_id=opp.id,
                )
                alert.status, alert.sent_at = "sent", now
                budget -= 1
                summary.instant += 1

    async def _write_updates(
        self,
        session: AsyncSession,
        cursor: datetime | None,
        people: Sequence[Recipient],
        summary: PlanSummary,
    ) -> None:
        """An "updated" message per person already told about a changed opportunity."""
        if cursor is None:
            return  # first run: nothing was sent before, so nothing can be updated
        changes = await changes_since(session, cursor, (*UPDATE_FIELDS, "status"))
        reachable = {r.person.id: r for r in people}
        moved = {c.opportunity_id for c in changes if c.field == "deadlines"}
        by_opp: dict[int, list[str]] = defaultdict(list)
        last_change: dict[int, int] = {}
        for change in changes:
            last_change[change.opportunity_id] = change.id
            if change.field == "status":
                continue  # a status change shows in the dates; closing is handled below
            by_opp[change.opportunity_id].append(
                _describe_change(change.field, change.old, change.new)
            )
        now, today = self._clock.now(), self._clock.today()
        for opp_id, lines in by_opp.items():
            opp = await session.get(Opportunity, opp_id)
            if opp is None or status_today(opp, today) == "closed":
                continue
            source = await session.scalar(select(Source.uri).where(Source.id == opp.source_id))
            alerts = await session.scalars(
                select(Alert).where(Alert.opportunity_id == opp_id, Alert.status == "sent")
            )
            for alert in alerts:
                recipient = reachable.get(alert.person_id)
                if recipient is None or alert.category not in recipient.categories:
                    continue
                item = _item_of(alert, opp, source, today)
                if await self._queue(
                    session,
                    recipient,
                    kind="update",
                    item_key=f"opp:{opp_id}:change:{last_change[opp_id]}",
                    category=alert.category,
                    reply=update_reply(item, today=today, changes=lines),
                    now=now,
                    opportunity_id=opp_id,
                ):
                    summary.updates += 1
                if opp_id in moved and (alert.saved or alert.applying):
                    await schedule_reminders(
                        session,
                        alert=alert,
                        opportunity=opp,
                        source=source or "",
                        channel=recipient.channel,
                        chat_id=recipient.chat_id,
                        now=now,
                        today=today,
                        tz=self._tz(recipient),
                        settings=self._settings,
                    )

    async def _cancel_closed(self, session: AsyncSession) -> int:
        """Cancel queued messages about opportunities that are closed today."""
        today = self._clock.today()
        rows = await session.execute(
            select(Delivery.opportunity_id)
            .where(Delivery.status == "pending", Delivery.opportunity_id.is_not(None))
            .distinct()
        )
        closed: list[int] = []
        for (opp_id,) in rows:
            opp = await session.get(Opportunity, opp_id) if opp_id is not None else None
            if opp is not None and status_today(opp, today) == "closed":
                closed.append(opp.id)
        if not closed:
            return 0
        return await cancel(session, opportunity_ids=closed, reason="the opportunity closed")

    async def _write_digests(self, session: AsyncSession, people: Sequence[Recipient]) -> int:
        """A digest for each person whose digest time has come and who has waiting matches."""
        now, today = self._clock.now(), self._clock.today()
        written = 0
        for recipient in people:
            person = recipient.person
            frequency = "daily" if person.alert_frequency == "daily" else "weekly"
            waiting = list(
                await session.scalars(
                    select(Alert)
                    .where(Alert.person_id == person.id, Alert.status == "digest")
                    .order_by(Alert.score.desc())
                )
            )
            if not waiting:
                continue
            tz = self._tz(recipient)
            # The digest goes out at the next digest time after the oldest waiting match.
            oldest = min(a.created_at for a in waiting)
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=now.tzinfo)
            due = next_digest(
                oldest,
                tz=tz,
                frequency=frequency,
                hour=self._settings.digest_hour,
                weekday=self._settings.digest_weekday,
            )
            if due > now:
                continue
            items = []
            for alert in waiting:
                opp = await session.get(Opportunity, alert.opportunity_id)
                if opp is None or alert.category not in recipient.categories:
                    continue
                row = (
                    await session.execute(
                        select(Source.uri, Source.audience).where(Source.id == opp.source_id)
                    )
                ).first()
                source = row.uri if row else None
                if row is None or row.audience not in _audiences(recipient):
                    continue  # matched while a member; the membership has gone since
                status = status_today(opp, today)
                alert.status, alert.sent_at = "sent", now
                if status == "closed":
                    alert.status = "expired"
                    continue
                items.append(_item_of(alert, opp, source, today))
            by_category: dict[str, list[AlertItem]] = defaultdict(list)
            for item in items:
                by_category[CATEGORY_OF_KIND.get(item.opportunity.kind, "news")].append(item)
            period = digest_period(due, tz=tz, frequency=frequency)
            # One digest per category, so consent is checked again per category at send time.
            for category, group in by_category.items():
                reply = digest_reply(group, today=today, organisation=recipient.organisation.name)
                if await self._queue(
                    session,
                    recipient,
                    kind="digest",
                    item_key=f"digest:{period}:{category}",
                    category=category,
                    reply=reply,
                    now=now,
                ):
                    written += 1
        return written


def _describe_change(name: str, old: object, new: object) -> str:
    if name == "deadlines":
        before = ", ".join(old) if isinstance(old, list) else str(old)
        after = ", ".join(new) if isinstance(new, list) else str(new)
        return f"deadline changed from {before or 'none'} to {after or 'none'}"
    label = {
        "budget_total_eur": "total budget",
        "budget_min_eur": "smallest grant",
        "budget_max_eur": "largest grant",
    }.get(name, name)

    def eur(value: object) -> str:
        return f"EUR {value:,}" if isinstance(value, int) else "not stated"

    return f"{label} changed from {eur(old)} to {eur(new)}"


async def keep_planning(planner: AlertPlanner, stop: asyncio.Event, *, every_s: float) -> None:
    """Plan now, then every ``every_s`` seconds until ``stop`` (for ``serve`` and ``deliver``).

    A failed run is logged and retried at the next tick; it never stops the process.
    """
    while not stop.is_set():
        try:
            await planner.plan()
        except Exception:
            logger.exception("alert planning failed; retrying in %.0f s", every_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


__all__ = ["CURSOR", "AlertPlanner", "PlanSummary", "keep_planning"]
