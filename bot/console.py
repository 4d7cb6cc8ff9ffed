"""The console channel: plain-text rendering and the interactive chat loop."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from bot.messages import Incoming, Reply, Responder


def render(reply: Reply) -> str:
    """A reply as plain text, sources listed under it."""
    lines = [reply.text]
    if reply.buttons:
        lines.append("")
        lines.append("  ".join(f"[{b.label}]" for b in reply.buttons))
    for attachment in reply.attachments:
        lines.append(f"(file: {attachment.filename}, {len(attachment.content)} bytes)")
    if reply.sources:
        lines.append("")
        lines.append("Sources:")
        for ref in reply.sources:
            where = ref.url or ref.source
            extra = f", {ref.section}" if ref.section else ""
            record = f" [{ref.record_id}]" if ref.record_id else ""
            lines.append(f"  [{ref.n}] {ref.title}{record}{extra} — {where}")
    return "\n".join(lines)


async def chat_loop(
    assistant: Responder,
    *,
    read_line: Callable[[], str | None] | None = None,
    out: TextIO | None = None,
) -> None:
    """Read questions until end of input or /quit, answering each."""
    stream = out or sys.stdout

    def _default_read() -> str | None:
        try:
            return input("you> ")
        except EOFError:
            return None

    reader = read_line or _default_read
    print("clusterbot: ask me about funding calls, incubators or network meetings.", file=stream)
    print("Type /help for examples, /quit to leave.", file=stream)
    while True:
        line = await asyncio.to_thread(reader)
        if line is None or line.strip() in {"/quit", "/exit"}:
            break
        if not line.strip():
            continue
        msg = Incoming.parse(channel="console", user_id="local", chat_id="local", text=line)
        reply = await assistant.respond(msg)
        if reply is not None:
            print("\n" + render(reply) + "\n", file=stream, flush=True)


__all__ = ["chat_loop", "render"]
