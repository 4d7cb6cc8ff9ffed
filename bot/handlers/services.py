"""/services: what the cluster offers its members (incubator, scouting, coaching, mentoring)."""

from __future__ import annotations

import re

from bot.context import Context
from bot.messages import Incoming, Reply, SourceRef
from knowledge.text import sentences
from storage.opportunities import document_sizes, list_opportunities, opening_passages

KINDS = ("incubator_offer", "partnering", "other")
SHOWN = 8
_SUMMARY_CHARS = 220


_LABEL = re.compile(r"^[\w ,/&()-]{1,40}:\s")


def _summary(text: str, title: str) -> str:
    for sentence in sentences(text):
        clean = sentence.strip(" #*-")
        if _LABEL.match(clean):
            continue  # a "Programme: ..." metadata line, not a description
        if clean and clean.lower() != title.lower() and len(clean) > 30:
            return clean if len(clean) <= _SUMMARY_CHARS else clean[: _SUMMARY_CHARS - 1] + "…"
    return ""


async def handle_services(msg: Incoming, ctx: Context) -> Reply:
    """List the cluster's service offers with a line on each."""
    async with ctx.sessions() as session:
        rows = await list_opportunities(session, kinds=list(KINDS), audiences=ctx.audiences)
        sizes = await document_sizes(session, [opp.document_id for opp, _ in rows])
        # Service descriptions first; among partnering records, the long service pages come
        # before the many one-paragraph partner offers.
        rows.sort(
            key=lambda r: (r[0].kind == "partnering", -sizes.get(r[0].document_id, 0), r[0].title)
        )
        rows = rows[:SHOWN]
        openings = await opening_passages(session, [opp.document_id for opp, _ in rows])
    if not rows:
        return Reply("The cluster hasn't shared its service offers with me yet.")
    lines = ["What the cluster offers:", ""]
    for n, (opp, _) in enumerate(rows, start=1):
        summary = _summary(openings.get(opp.document_id, ""), opp.title)
        lines.append(f"{n}. {opp.title}" + (f": {summary}" if summary else ""))
    lines += ["", "Ask me about any of them, e.g. “How do I apply to the incubator?”"]
    sources = tuple(
        SourceRef(n=n, title=opp.title, source=src, url=opp.url, record_id=opp.external_id)
        for n, (opp, src) in enumerate(rows, start=1)
    )
    return Reply("\n".join(lines), sources=sources)


__all__ = ["handle_services"]
