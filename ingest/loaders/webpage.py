"""HTML pages (beautifulsoup4, html.parser): readable text in sections split at h1-h3."""

from __future__ import annotations

from ingest.errors import EmptyInput
from ingest.loaders.htmltext import blocks_to_sections, html_blocks, parse_html
from ingest.loaders.limits import Limits
from ingest.loaders.text import clean_text, display_name
from ingest.types import ParsedItem

__all__ = ["load_html"]


def load_html(name: str, data: bytes, limits: Limits) -> list[ParsedItem]:
    """Read an HTML page into one item.

    Scripts, styles, templates, SVG, iframes, form controls, navigation and footers are
    dropped. The title is the ``<title>``, else the first ``<h1>``, else the file name.

    Raises:
        EmptyInput: The page has no readable text.
    """
    soup = parse_html(data)
    title_tag = soup.find("title")
    page_title = clean_text(title_tag.get_text(" ")) if title_tag else ""
    h1 = soup.find("h1")
    h1_text = clean_text(h1.get_text(" ")) if h1 else ""
    base = soup.find("base", href=True)
    canonical = soup.find("link", rel="canonical", href=True)
    blocks = html_blocks(soup.body or soup, drop_chrome=True)
    sections = blocks_to_sections(blocks)
    if not sections:
        raise EmptyInput("the page has no readable text")
    title = (page_title or h1_text or display_name(name)).replace("\n", " ")
    metadata = {}
    link = canonical or base
    if link is not None:
        metadata["base_url"] = str(link["href"])
    return [ParsedItem(external_id="document", title=title, sections=sections, metadata=metadata)]
