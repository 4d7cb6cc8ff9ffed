"""/calls: the open and upcoming funding calls that fit the company profile, with deadlines."""

from __future__ import annotations

from bot.context import Context
from bot.handlers.common import caller_records
from bot.handlers.fields import profile_of
from bot.messages import Button, Incoming, Reply, SourceRef
from bot.opportunities import opportunity_ref
from knowledge.match import Match, match
from storage.alerts import feedback_of
from storage.opportunities import list_opportunities

SHOWN = 5


def _line(n: int, m: Match) -> str:
    opp = m.opportunity
    status = "open" if m.status_today == "open" else "opens soon"
    head = f"{n}. {opp.title} ({opp.external_id}), {status}"
    why = "; ".join(r.text for r in m.reasons)
    return f"{head}\n   {why}" if why else head


def _source(n: int, m: Match) -> SourceRef:
    return opportunity_ref(
        n, m.opportunity, source=m.source, status_today=m.status_today, deadlines=m.deadlines
    )


async def handle_calls(msg: Incoming, ctx: Context) -> Reply:
    """List the calls that fit the caller's profile, best first, soonest deadline next."""
    today = ctx.clock.today()
    async with ctx.sessions() as session:
        _, org = await caller_records(session, ctx)
        rows = await list_opportunities(session, kinds=["funding_call"], audiences=ctx.audiences)
        judged = await feedback_of(session, org.id) if org is not None else {}
    # In a shared chat the profile stays private: everyone gets the same, unfiltered list.
    profile = profile_of(org if msg.chat_type == "private" else None)
    if ctx.matcher is not None and not profile.is_empty:
        found = await ctx.matcher.match(
            profile,
            today=today,
            kinds=("funding_call",),
            audiences=ctx.audiences,
            limit=SHOWN,
            feedback=judged,
            min_score=ctx.alerts.min_score,
        )
    else:
        found = match(profile, rows, today=today, limit=SHOWN)
    lead = f"Open and upcoming calls that fit {profile.name or 'your profile'}:"
    buttons: tuple[Button, ...] = ()
    if profile.is_empty:
        lead = "Open and upcoming calls, soonest deadline first:"
        if msg.chat_type == "private":
            buttons = (Button("Set up my profile", "onb", "begin"),)
    elif not found:
        found = match(profile, rows, today=today, limit=SHOWN, require_fit=False)
        lead = "None of the open calls matches your profile closely. The soonest ones:"
    if not found:
        return Reply(
            f"I know of no open or upcoming funding calls on {today.isoformat()}. "
            "I'll have more once the cluster shares new calls.",
            buttons=buttons,
        )
    lines = [lead, ""]
    lines += [_line(n, m) for n, m in enumerate(found, start=1)]
    if profile.is_empty and msg.chat_type == "private":
        lines += ["", "Tell me about your company (/start) and I'll pick the calls that fit."]
    sources = tuple(_source(n, m) for n, m in enumerate(found, start=1))
    return Reply("\n".join(lines), sources=sources, buttons=buttons)


__all__ = ["handle_calls"]
