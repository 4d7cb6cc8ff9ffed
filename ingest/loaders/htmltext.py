"""HTML to clean text blocks: scripts and chrome removed, block structure and headings kept."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag
from bs4.element import (
    CData,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    ProcessingInstruction,
    Script,
    Stylesheet,
    TemplateString,
)

from ingest.loaders.text import clean_text
from ingest.types import Section

__all__ = ["Block", "blocks_to_sections", "html_blocks", "html_text", "parse_html"]

_DROP = (
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
    "head", "select", "option", "button", "input", "textarea", "datalist", "dialog", "math",
)  # fmt: skip
_CHROME = ("nav", "footer")
_CHROME_ROLES = {"navigation", "contentinfo", "banner", "search"}
_INLINE = frozenset(
    ("a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn",
     "em", "font", "i", "img", "ins", "kbd", "label", "mark", "q", "s", "samp", "small", "span",
     "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr")
)  # fmt: skip
_SKIPPED_STRINGS = (
    Comment, CData, Declaration, Doctype, ProcessingInstruction,
    Script, Stylesheet, TemplateString,
)  # fmt: skip
_HEADING = re.compile(r"^h([1-6])$")
_MARK = "\x01"
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Block:
    """A paragraph of text, or a heading when ``level`` is set (1 for h1 ... 6 for h6)."""

    text: str
    level: int | None = None


def parse_html(markup: str | bytes) -> BeautifulSoup:
    """Parse HTML with the standard-library parser (bytes: encoding from BOM or meta charset)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(markup, "html.parser")


def html_blocks(root: BeautifulSoup | Tag, *, drop_chrome: bool = False) -> list[Block]:
    """Turn an HTML tree into blocks of clean text, in document order.

    Scripts, styles, templates, SVG, iframes, forms controls, comments and elements marked
    hidden are removed; with ``drop_chrome``, so are ``nav``/``footer`` and navigation
    landmarks. The tree is modified in place.
    """
    _strip(root, drop_chrome=drop_chrome)
    has_pre = root.find("pre") is not None
    for string in list(root.find_all(string=True)):
        if isinstance(string, _SKIPPED_STRINGS):
            string.extract()
        elif not has_pre or string.find_parent("pre") is None:
            string.replace_with(_WS.sub(" ", str(string)))
    for tag in list(root.find_all(True)):
        if tag.parent is None and tag is not root:
            continue
        _mark(tag)
    lines = root.get_text().split("\n")
    blocks: list[Block] = []
    for line in lines:
        if line.startswith(_MARK):
            level, _, text = line[1:].partition(_MARK)
            text = clean_text(text)
            if text:
                blocks.append(Block(text=text, level=int(level)))
            continue
        text = clean_text(line).rstrip(" |")
        if text:
            blocks.append(Block(text=text))
    return blocks


def html_text(markup: str | bytes) -> str:
    """Return the clean text of an HTML fragment: one block per line, paragraphs kept."""
    if isinstance(markup, str) and "<" not in markup and "&" not in markup:
        return clean_text(markup)
    return "\n".join(block.text for block in html_blocks(parse_html(markup)))


def blocks_to_sections(
    blocks: list[Block], *, max_level: int = 3, first_heading: str | None = None
) -> tuple[Section, ...]:
    """Group blocks into sections starting at headings of ``max_level`` or higher.

    Lower headings stay inside their section as lines of text.
    """
    sections: list[Section] = []
    heading: str | None = first_heading
    lines: list[str] = []
    for block in blocks:
        if block.level is not None and block.level <= max_level:
            if lines or heading is not first_heading:
                sections.append(Section(heading=heading, text="\n".join(lines)))
            heading, lines = block.text, []
        else:
            lines.append(block.text)
    sections.append(Section(heading=heading, text="\n".join(lines)))
    return tuple(s for s in sections if s.text.strip())


def _strip(root: BeautifulSoup | Tag, *, drop_chrome: bool) -> None:
    for tag in root.find_all(_DROP):
        tag.decompose()
    for tag in list(root.find_all(True)):
        if tag.decomposed:
            continue
        attrs = tag.attrs or {}
        hidden = "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true"
        style = str(attrs.get("style", "")).replace(" ", "").lower()
        hidden = hidden or "display:none" in style or "visibility:hidden" in style
        chrome = drop_chrome and (
            tag.name in _CHROME or str(attrs.get("role", "")).lower() in _CHROME_ROLES
        )
        if hidden or chrome:
            tag.decompose()


def _mark(tag: Tag) -> None:
    name = tag.name.lower()
    heading = _HEADING.match(name)
    if heading:
        text = _WS.sub(" ", tag.get_text(" ")).strip()
        tag.replace_with(NavigableString(f"\n{_MARK}{heading.group(1)}{_MARK}{text}\n"))
    elif name == "br":
        tag.replace_with(NavigableString("\n"))
    elif name in ("td", "th"):
        tag.insert_after(NavigableString(" | "))
    elif name == "li":
        tag.insert_before(NavigableString("\n- "))
        tag.insert_after(NavigableString("\n"))
    elif name not in _INLINE:
        tag.insert_before(NavigableString("\n"))
        tag.insert_after(NavigableString("\n"))
