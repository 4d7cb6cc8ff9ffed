"""Handlers: one module per command family; commands, buttons and flows are wired here only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.alert_messages import APPLY, FEEDBACK, SAVE
from bot.broadcasts import PRESS
from bot.context import Context
from bot.handlers import (
    alert_taps,
    alerts,
    attendees,
    broadcast,
    calls,
    events,
    feedback,
    privacy,
    profile,
    scouting,
    services,
    staff_events,
    start,
    unanswered,
)
from bot.handlers.ask import handle_question
from bot.handlers.help import handle_help
from bot.messages import Incoming, Reply

Handler = Callable[[Incoming, Context], Awaitable[Reply]]

COMMANDS: dict[str, Handler] = {
    "start": start.handle_start,
    "help": handle_help,
    "calls": calls.handle_calls,
    "events": events.handle_events,
    "attendees": attendees.handle_attendees,
    "services": services.handle_services,
    "profile": profile.handle_profile,
    "alerts": alerts.handle_alerts,
    "stop": alerts.handle_stop,
    "forget": privacy.handle_forget,
    "mydata": privacy.handle_mydata,
    "unanswered": unanswered.handle_unanswered,
    "answer": unanswered.handle_answer,
    "broadcast": broadcast.handle_broadcast,
    "scout": scouting.handle_scout,
    "requests": scouting.handle_requests,
    "newevent": staff_events.handle_newevent,
}
# Commands for staff and admins only: each refuses members (tests/bot/handlers checks all).
STAFF_COMMANDS: frozenset[str] = frozenset(
    {"attendees", "unanswered", "answer", "broadcast", "newevent", "requests"}
)
# Button actions (``Button.action``) and the handler of each.
TAPS: dict[str, Handler] = {
    start.ACTION: start.onboarding_tap,
    profile.EDIT: profile.profile_edit_tap,
    profile.SET: profile.profile_set_tap,
    events.RSVP: events.rsvp_tap,
    events.UNRSVP: events.rsvp_tap,
    attendees.VISIBLE: attendees.visible_tap,
    alerts.TOGGLE: alerts.alert_tap,
    alerts.FREQUENCY: alerts.alert_tap,
    alerts.STOP: alerts.handle_stop,
    alerts.RESUME: alerts.resume_tap,
    privacy.FORGET: privacy.forget_tap,
    feedback.FEEDBACK: feedback.feedback_tap,
    feedback.HANDOFF: feedback.handoff_tap,
    unanswered.ANSWER: unanswered.answer_tap,
    broadcast.SEND: broadcast.send_tap,
    broadcast.APPROVE: broadcast.approve_tap,
    broadcast.CANCEL: broadcast.cancel_tap,
    broadcast.STATUS: broadcast.status_tap,
    PRESS: broadcast.press_tap,
    scouting.TYPE: scouting.scout_type_tap,
    scouting.REGION: scouting.scout_region_tap,
    scouting.INTRO: scouting.intro_tap,
    scouting.STAFF: scouting.staff_tap,
    scouting.COUNTERPART: scouting.answer_tap,
    staff_events.CANCEL: staff_events.cancel_tap,
    SAVE: alert_taps.alert_tap,
    APPLY: alert_taps.alert_tap,
    FEEDBACK: alert_taps.alert_tap,
}
# Multi-step flows: free text goes to the flow a person is in (state kept in the database).
FLOWS: dict[str, Handler] = {
    start.FLOW: start.onboarding_text,
    profile.FLOW: profile.profile_text,
    scouting.FLOW: scouting.scout_text,
}
FREE_TEXT: Handler = handle_question

__all__ = ["COMMANDS", "FLOWS", "FREE_TEXT", "STAFF_COMMANDS", "TAPS", "Handler"]
