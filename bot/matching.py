"""The ``match`` command's logic: read a profile file, match it, shape the stable JSON.

``clusterbot match --json --profile FILE`` prints ``{"matches": [...]}`` with, per match,
``opportunity_id`` (the source's identifier, e.g. the F&T topic id), ``title``, ``score``,
``status`` (open or forthcoming on the day), ``deadlines`` (ISO dates in stage order) and
``reasons`` (sentences); added fields: ``url``, ``source``, ``next_deadline`` and
``evidence`` (each reason with the passage that supports it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bot.errors import UserError
from knowledge.match import Match, Matcher
from knowledge.profile import Profile, unknown_fields

MAX_PROFILE_BYTES = 1_000_000


def read_profile(path: Path) -> tuple[Profile, list[str]]:
    """The profile in a JSON file, and the names of fields it has that matching ignores.

    Raises:
        UserError: naming the file and what is wrong with it (unreadable, not JSON, a field
            of the wrong type).
    """
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise UserError(f"{path}: a profile file must be under 1 MB")
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the profile file ({exc.strerror})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    try:
        profile = Profile.from_json(data)
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None
    if profile.is_empty:
        raise UserError(
            f"{path}: the profile says nothing to match on; fill at least one of "
            "'description', 'sectors', 'therapeutic_areas', 'technologies', 'funding_interest'"
        )
    return profile, unknown_fields(data)


def match_record(match: Match) -> dict[str, Any]:
    """One match as the stable JSON record (see the module docstring)."""
    opp = match.opportunity
    nxt = match.next_deadline
    return {
        "opportunity_id": opp.external_id,
        "title": opp.title,
        "score": match.score,
        "status": match.status_today,
        "deadlines": [d.isoformat() for d in match.deadlines],
        "reasons": [r.text for r in match.reasons],
        "next_deadline": nxt.isoformat() if nxt else None,
        "url": opp.url,
        "source": match.source,
        "evidence": [
            {"reason": r.text, "passage": r.passage, "chunk_id": r.chunk_id} for r in match.reasons
        ],
    }


async def match_json(
    matcher: Matcher,
    profile: Profile,
    *,
    today: date,
    limit: int | None = 10,
    kinds: Sequence[str] = ("funding_call",),
    audiences: Sequence[str] = ("public",),
) -> dict[str, Any]:
    """Match one profile and return ``{"matches": [...]}``, best first."""
    found = await matcher.match(
        profile, today=today, kinds=kinds, audiences=audiences, limit=limit
    )
    return {"matches": [match_record(m) for m in found]}


def match_lines(result: dict[str, Any]) -> list[str]:
    """The matches for people to read in a terminal."""
    if not result["matches"]:
        return ["No open or forthcoming opportunity fits this profile."]
    lines = []
    for n, item in enumerate(result["matches"], start=1):
        when = ", ".join(item["deadlines"]) or "no deadline stated"
        lines.append(f"{n}. {item['title']} ({item['opportunity_id']})")
        lines.append(f"   score {item['score']:.2f}, {item['status']}, deadline {when}")
        lines.extend(f"   - {reason}" for reason in item["reasons"])
    return lines


__all__ = ["MAX_PROFILE_BYTES", "match_json", "match_lines", "match_record", "read_profile"]
