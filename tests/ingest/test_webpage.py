import pytest

from ingest.errors import EmptyInput
from ingest.loaders.limits import Limits
from ingest.loaders.webpage import load_html
from tests.ingest.builders import DATA


def test_page_text_is_clean_and_split_at_headings() -> None:
    [item] = load_html("page.html", (DATA / "page.html").read_bytes(), Limits())
    assert item.external_id == "document"
    assert item.title == "Cluster news & events"
    assert [s.heading for s in item.sections] == [
        "Welcome to BioCluster",
        "Upcoming events",
        "Past events",
    ]
    assert item.sections[0].text == "We connect life-science SMEs across the region – since 2010."
    assert "Partnering day | 2026-05-12" in item.sections[1].text
    assert item.sections[2].text == "Line one\nLine two"


@pytest.mark.parametrize(
    "marker",
    [
        "SECRET_SCRIPT_TOKEN",
        "injected",
        "color: red",
        "NOSCRIPT_TEXT",
        "TEMPLATE_TEXT",
        "SVG_TEXT",
        "HIDDEN_TEXT",
        "SECRET_JSON_LD",
        "NAVIGATION_LINK_TEXT",
        "FOOTER_TEXT",
        "<",
        "&",
    ],
)
def test_no_script_markup_or_chrome_in_text(marker: str) -> None:
    [item] = load_html("page.html", (DATA / "page.html").read_bytes(), Limits())
    assert marker not in item.text.replace("news & events", "")


def test_title_falls_back_to_h1_then_name() -> None:
    [item] = load_html("x.html", b"<html><body><h1>Main</h1><p>t</p></body></html>", Limits())
    assert item.title == "Main"
    [item] = load_html("https://example.org/a/b.html", b"<p>only text</p>", Limits())
    assert item.title == "b.html"


def test_meta_charset_is_honoured() -> None:
    page = '<html><head><meta charset="windows-1252"></head><body><p>café</p></body></html>'
    [item] = load_html("x.html", page.encode("cp1252"), Limits())
    assert item.text == "café"


def test_page_with_only_scripts_is_empty() -> None:
    with pytest.raises(EmptyInput):
        load_html("x.html", b"<html><script>alert(1)</script></html>", Limits())
