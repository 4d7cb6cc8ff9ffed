"""Budgets of SEDIA topics, read from the ``budgetOverview`` JSON of a portal record.

``budgetTopicActionMap`` maps a budget block id to entries; each entry's ``action`` string
names the topic(s) it funds ("HORIZON-HLTH-2026-01-TOOL-03 - HORIZON-RIA ..."), with
``expectedGrants``, ``minContribution``, ``maxContribution`` and ``budgetYearMap`` (year ->
amount). The overview covers the whole call, so only blocks naming the topic count.

Shared blocks: when a block names several topics (in one ``action`` string or in several
entries under the same block id, e.g. HORIZON-EIC-2026-AIC-01 and -02), its amount is one
envelope that those topics compete for. We record that envelope as each topic's
``budget_total_eur`` (it is what the portal shows on each topic page) and name the other
topics in :attr:`TopicBudget.shared_with`; a block is counted once per topic however many of
its entries name the topic, so nothing is double counted within a topic. Summing
``budget_total_eur`` across topics would count a shared envelope once per topic:
de-duplicate on the block ids in :attr:`TopicBudget.blocks` first. Zero amounts (used by
the portal for "not stated") are read as unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["TopicBudget", "topic_budget"]

_TOPIC_TOKEN = re.compile(r"[A-Z0-9][A-Za-z0-9_.]*(?:-[A-Za-z0-9_.]+)+")


@dataclass(frozen=True)
class TopicBudget:
    """What the budget overview says about one topic."""

    total_eur: int | None = None
    min_eur: int | None = None
    max_eur: int | None = None
    expected_grants: int | None = None
    shared_with: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()


def _named_topics(action: str) -> list[str]:
    head = action.split(" - ", 1)[0]
    return _TOPIC_TOKEN.findall(head)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = int(value)
    elif isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        number = int(float(value.strip()))
    else:
        return None
    return number if number > 0 else None


def topic_budget(overview: str | None, identifier: str) -> TopicBudget:
    """Return the budget of ``identifier`` from a ``budgetOverview`` JSON string."""
    if not overview:
        return TopicBudget()
    try:
        doc = json.loads(overview)
    except ValueError:
        return TopicBudget()
    block_map = doc.get("budgetTopicActionMap") if isinstance(doc, dict) else None
    if not isinstance(block_map, dict):
        return TopicBudget()
    total = 0
    lows: list[int] = []
    highs: list[int] = []
    grants = 0
    shared: list[str] = []
    blocks: list[str] = []
    for block_id, entries in block_map.items():
        if not isinstance(entries, list):
            continue
        entries = [e for e in entries if isinstance(e, dict)]
        named = {e_id: _named_topics(str(e.get("action", ""))) for e_id, e in enumerate(entries)}
        mine = [entries[i] for i, topics in named.items() if identifier in topics]
        if not mine:
            continue
        entry = mine[0]  # one block counts once for a topic
        blocks.append(str(block_id))
        years = entry.get("budgetYearMap")
        if isinstance(years, dict):
            total += sum(_int(v) or 0 for v in years.values())
        grants += _int(entry.get("expectedGrants")) or 0
        for key, bucket in (("minContribution", lows), ("maxContribution", highs)):
            amount = _int(entry.get(key))
            if amount is not None:
                bucket.append(amount)
        for topics in named.values():
            shared.extend(t for t in topics if t != identifier and t not in shared)
    return TopicBudget(
        total_eur=total or None,
        min_eur=min(lows) if lows else None,
        max_eur=max(highs) if highs else None,
        expected_grants=grants or None,
        shared_with=tuple(shared),
        blocks=tuple(blocks),
    )
