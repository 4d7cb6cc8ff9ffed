"""CordisData change logs (``{"date", "summary", "events"}``): one item per file."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ingest.errors import EmptyInput
from ingest.loaders.fields import to_str
from ingest.loaders.text import display_name, make_sections
from ingest.types import ParsedItem

__all__ = ["is_changelog", "load_changelog"]

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def is_changelog(doc: object) -> bool:
    """Tell whether a JSON document is a change log."""
    return isinstance(doc, Mapping) and isinstance(doc.get("events"), list) and "date" in doc


def load_changelog(name: str, doc: Mapping[str, object]) -> list[ParsedItem]:
    """Turn a change log into one item listing every event: type, topic, changed fields.

    Raises:
        EmptyInput: The log has no events and no summary.
    """
    found = _DATE_IN_NAME.search(display_name(name))
    day = to_str(doc.get("date")) or (found.group(1) if found else "undated")
    events = [e for e in doc.get("events") or [] if isinstance(e, Mapping)]  # type: ignore[attr-defined]
    summary = doc.get("summary")
    summary_text = ""
    if isinstance(summary, Mapping):
        summary_text = ", ".join(f"{str(k).replace('_', ' ')}: {v}" for k, v in summary.items())
    lines = []
    for event in events:
        line = f"{to_str(event.get('type')) or 'EVENT'} {to_str(event.get('topicId')) or '?'}"
        reference = to_str(event.get("name"))
        if reference:
            line += f" ({reference})"
        changed = event.get("changed_fields")
        if isinstance(changed, list) and changed:
            line += ": changed " + ", ".join(str(c) for c in changed)
        lines.append(line)
    sections = make_sections([("Summary", summary_text), ("Events", "\n".join(lines))])
    if not sections:
        raise EmptyInput("the change log is empty")
    return [
        ParsedItem(
            external_id=f"changelog-{day}",
            title=f"EU call change log {day}",
            sections=sections,
            metadata={"source_format": "cordisdata-changelog", "events": str(len(events))},
        )
    ]
