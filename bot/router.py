"""The router: one entry point for every channel, from an incoming message to a reply.

Button taps go to their action's handler, commands to theirs, and free text to the flow the
person is in (onboarding, a profile edit) or else to the question handler. A command in the
middle of a flow pauses the flow, so a question asked meanwhile is not taken as an answer.
"""

from __future__ import annotations

import logging
import secrets

from bot.context import Context
from bot.errors import UserError
from bot.handlers import COMMANDS, FLOWS, FREE_TEXT, TAPS, Handler
from bot.messages import Incoming, Reply
from storage.people import get_state, set_state

logger = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on my side. Reference: {reference}."


def apology() -> Reply:
    """A short apology with a fresh reference id (log the failure with the same id)."""
    reference = secrets.token_hex(4)
    return Reply(APOLOGY.format(reference=reference), reference=reference)


class Router:
    """Dispatches taps, commands, flow answers and questions to their handler."""

    def __init__(
        self,
        *,
        commands: dict[str, Handler] | None = None,
        taps: dict[str, Handler] | None = None,
        flows: dict[str, Handler] | None = None,
        free_text: Handler | None = None,
    ) -> None:
        self._commands = commands if commands is not None else COMMANDS
        self._taps = taps if taps is not None else TAPS
        self._flows = flows if flows is not None else FLOWS
        self._free_text = free_text or FREE_TEXT

    @property
    def commands(self) -> frozenset[str]:
        """The command names this router knows."""
        return frozenset(self._commands)

    async def dispatch(self, msg: Incoming, ctx: Context) -> Reply:
        """The reply to a message; failures become a short apology with a reference id."""
        try:
            chosen = await self._choose(msg, ctx)
            if isinstance(chosen, Reply):
                return chosen
            return await chosen(msg, ctx)
        except UserError as exc:
            return Reply(str(exc))
        except Exception:
            reply = apology()
            logger.exception(
                "handler failed (ref %s, channel %s, command %s, tap %s)",
                reply.reference,
                msg.channel,
                msg.command,
                msg.tap.action if msg.tap else None,
            )
            return reply

    async def _choose(self, msg: Incoming, ctx: Context) -> Handler | Reply:
        if msg.tap is not None:
            found = self._taps.get(msg.tap.action)
            if found is None:
                return Reply("That button no longer works. /help lists what I can do.")
            return found
        if msg.command is not None:
            found = self._commands.get(msg.command)
            if found is None:
                known = ", ".join(f"/{c}" for c in sorted(self._commands))
                return Reply(f"I don't know /{msg.command}. Commands I know: {known}.")
            if ctx.caller.flow is not None:
                await self._pause_flow(ctx)
            return found
        if ctx.caller.flow is not None and ctx.caller.flow in self._flows:
            return self._flows[ctx.caller.flow]
        return self._free_text

    async def _pause_flow(self, ctx: Context) -> None:
        async with ctx.sessions.begin() as session:
            state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
            if state is not None and not state.paused:
                await set_state(
                    session,
                    ctx.caller.channel,
                    ctx.caller.user_id,
                    flow=state.flow,
                    step=state.step,
                    data=state.data,
                    paused=True,
                )


__all__ = ["APOLOGY", "Router", "apology"]
