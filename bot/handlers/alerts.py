"""/alerts: which kinds of message to receive and how often; /stop ends them all in one tap."""

from __future__ import annotations

from bot.context import Context
from bot.handlers.common import caller_records, private_only
from bot.messages import Button, Incoming, Reply
from knowledge.profile import ALERT_CATEGORIES, FREQUENCIES
from storage.outbox import cancel
from storage.people import audit, set_subscription, stop_everything, subscriptions

TOGGLE = "alert"
FREQUENCY = "freq"
STOP = "stop"
RESUME = "resume"


async def _view(ctx: Context, lead: str = "") -> Reply:
    async with ctx.sessions() as session:
        person, _ = await caller_records(session, ctx)
        consent = await subscriptions(session, person.id)
    lines = [lead + "Your alerts:" if lead else "Your alerts:", ""]
    buttons: list[Button] = []
    for key, label in ALERT_CATEGORIES.items():
        on = consent.get(key, False) and not person.stopped
        lines.append(f"{'✅' if on else '⬜'} {label}")
        buttons.append(Button(f"{'✅' if on else '⬜'} {label}", TOGGLE, key))
    how = FREQUENCIES.get(person.alert_frequency, person.alert_frequency)
    lines += ["", f"Sent {how}."]
    if person.stopped:
        lines.append("All messages are stopped (/stop). Turning a category on starts them again.")
    for key in FREQUENCIES:
        mark = "● " if key == person.alert_frequency else ""
        buttons.append(Button(f"{mark}{key.capitalize()}", FREQUENCY, key))
    buttons.append(Button("Stop everything", STOP))
    return Reply("\n".join(lines), buttons=tuple(buttons))


async def handle_alerts(msg: Incoming, ctx: Context) -> Reply:
    """Show alert settings; ``/alerts daily`` or ``/alerts off events`` change them by text."""
    if (elsewhere := private_only(msg, "alert settings")) is not None:
        return elsewhere
    words = msg.args.lower().split()
    if not words:
        return await _view(ctx)
    if len(words) == 1 and words[0] in FREQUENCIES:
        return await _set_frequency(ctx, words[0])
    if len(words) == 2 and words[0] in ("on", "off") and words[1] in ALERT_CATEGORIES:
        return await _set(ctx, words[1], on=words[0] == "on")
    categories = ", ".join(ALERT_CATEGORIES)
    return Reply(
        f"I didn't understand “{msg.args[:60]}”. Try /alerts, /alerts daily, "
        f"/alerts on funding or /alerts off events (categories: {categories})."
    )


async def _set(ctx: Context, category: str, *, on: bool) -> Reply:
    async with ctx.sessions.begin() as session:
        person, _ = await caller_records(session, ctx)
        await set_subscription(session, person.id, category, active=on)
        if on:
            person.stopped = False
        await audit(
            session,
            actor=f"person:{person.id}",
            action="consent_given" if on else "consent_withdrawn",
            subject=f"person:{person.id}",
            detail={"category": category},
        )
    verb = "on" if on else "off"
    return await _view(ctx, f"{ALERT_CATEGORIES[category]}: {verb}.\n\n")


async def _set_frequency(ctx: Context, frequency: str) -> Reply:
    async with ctx.sessions.begin() as session:
        person, _ = await caller_records(session, ctx)
        person.alert_frequency = frequency
    return await _view(ctx, f"Alerts will come {FREQUENCIES[frequency]}.\n\n")


async def alert_tap(msg: Incoming, ctx: Context) -> Reply:
    """A category toggle or a frequency button under /alerts."""
    assert msg.tap is not None
    key = msg.tap.payload
    if msg.tap.action == FREQUENCY:
        if key not in FREQUENCIES:
            return await _view(ctx, "That choice is no longer offered.\n\n")
        return await _set_frequency(ctx, key)
    if key not in ALERT_CATEGORIES:
        return await _view(ctx, "That category is no longer offered.\n\n")
    async with ctx.sessions() as session:
        person, _ = await caller_records(session, ctx)
        on = (await subscriptions(session, person.id)).get(key, False) and not person.stopped
    return await _set(ctx, key, on=not on)


async def handle_stop(msg: Incoming, ctx: Context) -> Reply:
    """Stop every proactive message at once."""
    async with ctx.sessions.begin() as session:
        person, _ = await caller_records(session, ctx)
        await stop_everything(session, person.id)
        # Queued messages go too, including reminders the person asked for: stop is stop.
        await cancel(session, item_key_prefix="", person_id=person.id, reason="stopped")
        await audit(
            session, actor=f"person:{person.id}", action="stop", subject=f"person:{person.id}"
        )
    return Reply(
        "Done: I won't send you anything unless you ask me. You can still ask questions any "
        "time; /alerts turns alerts back on.",
        buttons=(Button("Undo", RESUME),),
    )


async def resume_tap(msg: Incoming, ctx: Context) -> Reply:
    """Undo /stop: turn back on what was on before."""
    async with ctx.sessions.begin() as session:
        person, _ = await caller_records(session, ctx)
        person.stopped = False
        consent = await subscriptions(session, person.id)
        for category in consent:
            await set_subscription(session, person.id, category, active=True)
        await audit(
            session, actor=f"person:{person.id}", action="resume", subject=f"person:{person.id}"
        )
    return await _view(ctx, "Alerts are back on.\n\n")


__all__ = [
    "FREQUENCY",
    "RESUME",
    "STOP",
    "TOGGLE",
    "alert_tap",
    "handle_alerts",
    "handle_stop",
    "resume_tap",
]
