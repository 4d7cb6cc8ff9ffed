"""Invariants every parsed item must satisfy."""

from __future__ import annotations

import html
import re

from ingest.types import ParsedItem

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.I)


def assert_clean(items: list[ParsedItem]) -> None:
    ids = [item.external_id for item in items]
    assert len(ids) == len(set(ids)), "external ids must be unique within a file"
    for item in items:
        assert item.external_id
        assert item.title.strip()
        assert "\n" not in item.title
        assert item.sections, item.external_id
        for section in item.sections:
            text = section.text
            assert text
            assert text == text.strip()
            assert "\x00" not in text
            assert "  " not in text
            assert "\t" not in text
            assert "\n\n\n" not in text
            assert not _TAG.search(text), (item.external_id, _TAG.search(text))
            entities = [m for m in _ENTITY.findall(text) if html.unescape(m) != m]
            assert not entities, (item.external_id, entities)
