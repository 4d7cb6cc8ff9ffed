"""RSS and Atom feeds (feedparser): one item per entry; categories may mark opportunities."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import date
from io import BytesIO
from typing import Any

import feedparser

from ingest.errors import CorruptInput, EmptyInput, UnsupportedFormat
from ingest.loaders.describe import opportunity_item
from ingest.loaders.fields import parse_date, parse_kind
from ingest.loaders.htmltext import html_text
from ingest.loaders.limits import Limits
from ingest.loaders.text import make_sections, plain
from ingest.types import Opportunity, OpportunityKind, ParsedItem

__all__ = ["load_feed"]

logger = logging.getLogger(__name__)

_DEADLINE_TERM = re.compile(r"^deadline\s*[:=]\s*(.+)$", re.I)


def load_feed(name: str, data: bytes, limits: Limits) -> list[ParsedItem]:
    """Read an RSS or Atom feed into one item per entry.

    ``external_id`` is the entry id, else its link, else a hash of its title and date. An
    entry with a category naming an opportunity kind (``funding_call``, ``event`` ...) also
    carries an opportunity of that kind, with the deadline from a ``<deadline>`` element (any
    namespace) or a ``deadline:YYYY-MM-DD`` category, if present.

    Raises:
        UnsupportedFormat: XML that is not a feed.
        CorruptInput: A malformed feed without any readable entry.
        EmptyInput: A feed without entries.
    """
    parsed = feedparser.parse(BytesIO(data), sanitize_html=True, resolve_relative_uris=False)
    entries = list(parsed.get("entries", []))
    if not entries:
        if parsed.get("bozo"):
            raise CorruptInput("malformed feed (not well-formed XML)")
        if not parsed.get("version"):
            raise UnsupportedFormat("unsupported format: XML that is not an RSS or Atom feed")
        raise EmptyInput("the feed has no entries")
    feed_title = plain(str(parsed.get("feed", {}).get("title", "")))
    items: list[ParsedItem] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        item = _entry_item(entry, feed_title)
        if item is None:
            logger.warning("%s: feed entry %d has no text; skipped", name, index)
        elif item.external_id in seen:
            logger.warning("%s: feed entry %d repeats an id; skipped", name, index)
        else:
            seen.add(item.external_id)
            items.append(item)
    if not items:
        raise EmptyInput("no feed entry has any text")
    return items


def _entry_item(entry: Any, feed_title: str) -> ParsedItem | None:
    title = plain(str(entry.get("title", ""))).replace("\n", " ")
    body = _body(entry)
    link = str(entry.get("link", "")).strip() or None
    # Plain dict lookups: feedparser's own mapping of a missing "updated" to "published"
    # warns (deprecated), so neither key is read through it.
    published = str(dict.get(entry, "published") or dict.get(entry, "updated") or "").strip()
    ident = str(entry.get("id", "")).strip() or link
    if not ident:
        digest = hashlib.sha256(f"{title}\n{published}".encode()).hexdigest()[:16]
        ident = f"entry-{digest}"
    if not title and not body:
        return None
    title = title or body.split("\n", 1)[0][:120]
    metadata = {k: v for k, v in (("feed", feed_title), ("published", published)) if v}
    terms = [str(tag.get("term", "")).strip() for tag in entry.get("tags", []) or []]
    kind = next((k for k in map(_kind, terms) if k is not None), None)
    if kind is None:
        return ParsedItem(
            external_id=ident,
            title=title,
            sections=make_sections([(None, body)]) or make_sections([(None, title)]),
            url=link,
            metadata=metadata,
        )
    deadline = _deadline(entry, terms)
    keywords = tuple(t for t in terms if t and _kind(t) is None and not _DEADLINE_TERM.match(t))
    opp = Opportunity(
        id=ident,
        kind=kind,
        title=title,
        deadlines=(deadline,) if deadline else (),
        url=link,
        keywords=keywords,
    )
    return opportunity_item(opp, [(None, body)], metadata=metadata)


def _body(entry: Any) -> str:
    contents = [str(c.get("value", "")) for c in entry.get("content", []) or []]
    summary = str(entry.get("summary", ""))
    best = max([*contents, summary], key=len)
    return html_text(best) if best else ""


def _kind(term: str) -> OpportunityKind | None:
    """Return the kind a category names exactly (case, spaces and dashes aside)."""
    kind = parse_kind(term)
    return kind if kind is not None and re.sub(r"[\s-]+", "_", term.lower()) == kind else None


def _deadline(entry: Any, terms: list[str]) -> date | None:
    for key, value in entry.items():
        if str(key).lower().endswith("deadline") and isinstance(value, str):
            day = parse_date(value)
            if day:
                return day
    for term in terms:
        match = _DEADLINE_TERM.match(term)
        if match:
            day = parse_date(match.group(1))
            if day:
                return day
    return None
