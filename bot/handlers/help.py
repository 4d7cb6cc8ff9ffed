"""/help: what the assistant can do and how to ask."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Incoming, Reply

HELP = """I answer questions about funding calls, incubator offers and network meetings from \
the documents your cluster shared with me, and I cite my sources.

Try:
• Which calls support SMEs in cancer diagnostics?
• When is the deadline of HORIZON-HLTH-2026-01-TOOL-03?
• What does the incubator offer start-ups?

I know today's date: a call whose deadline has passed is shown as closed. When my sources \
don't cover a question, I say so, and “Ask a person” under any answer reaches the cluster team.

Commands:
/start: set up your company profile (a few short questions)
/calls: open and upcoming calls that fit your profile
/events: upcoming network meetings, with RSVP
/services: what the cluster offers
/scout: find a partner or technology, e.g. /scout organ-on-chip | university | DACH
/scout mine: your scouting requests and how far each got
/profile: see and change your profile
/alerts: what I may message you about, and how often
/stop: no more messages from me, in one tap
/mydata: everything I hold about you, as a file
/forget: erase your data
/help: this message"""


STAFF_HELP = """

For cluster staff:
/attendees: upcoming meetings with RSVP counts; /attendees N lists who comes
/newevent Title | 2026-12-10 14:00-16:00 | Place | text: add a network meeting
/unanswered: questions waiting for a person; /answer ID text answers one
/broadcast: message a segment of members (/broadcast help shows how)
/requests: open scouting requests; /requests introduce|accepted|contract|close ID"""


async def handle_help(msg: Incoming, ctx: Context) -> Reply:
    """Explain what the assistant does (and, to staff, their commands)."""
    return Reply(HELP + STAFF_HELP if ctx.caller.is_staff else HELP)


__all__ = ["HELP", "STAFF_HELP", "handle_help"]
