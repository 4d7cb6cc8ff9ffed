from ingest.loaders.text import (
    clean_text,
    decode_text,
    display_name,
    make_sections,
    plain,
    repair_mojibake,
    unglue,
)
from ingest.types import Section


def test_clean_text_collapses_spaces_and_keeps_paragraphs() -> None:
    raw = "  one\u00a0 two\t three \r\n\r\n\r\n\nfour\x00\u200b five  \n"
    assert clean_text(raw) == "one two three\n\nfour five"


def test_decode_text_fallbacks() -> None:
    assert decode_text("\ufeffé".encode()) == "é"
    assert decode_text("café".encode("cp1252")) == "café"
    assert decode_text("hi".encode("utf-16")) == "hi"
    assert "\ufffd" in decode_text(b"\x81\x8d\x8f\x90\x9d\xc3")


def test_plain_removes_tags_and_entities() -> None:
    assert plain("<p>R&amp;D <b>funding</b></p><!-- note -->") == "R&D funding"
    assert plain("a < b and c > d") == "a < b and c > d"


def test_repair_mojibake() -> None:
    assert repair_mojibake("Womenâ€™s â€œrightsâ€\x9d") == "Women’s “rights”"
    assert repair_mojibake("CONVOCATORIA TEMÃ\x81TICA") == "CONVOCATORIA TEMÁTICA"
    assert repair_mojibake("Ã©galitÃ©") == "égalité"
    # Correct text is left alone.
    assert repair_mojibake("Café Zürich – “ok”") == "Café Zürich – “ok”"


def test_unglue() -> None:
    text = unglue("Objective:The ERC grants.Scope:Size of grants.Conditions1. Admissibility")
    assert (
        text == "Objective: The ERC grants.\nScope: Size of grants. Conditions\n1. Admissibility"
    )
    assert unglue("see europa.eu and e.g. 2.5 million") == "see europa.eu and e.g. 2.5 million"


def test_display_name() -> None:
    assert display_name("/a/b/report.pdf") == "report.pdf"
    assert display_name("https://example.org/news/item%201.html?x=1") == "item 1.html"
    assert display_name("https://example.org/") == "example.org"


def test_make_sections_drops_empty_parts() -> None:
    assert make_sections([("A", "  x  "), ("B", " \n "), (None, "y")]) == (
        Section("A", "x"),
        Section(None, "y"),
    )
