from datetime import date

import pytest

from ingest.errors import EmptyInput
from ingest.loaders.limits import Limits
from ingest.loaders.markdown import load_markdown, split_front_matter
from ingest.types import ParsedItem
from tests.ingest.builders import DATA


def _load(name: str) -> list[ParsedItem]:
    return load_markdown(name, (DATA / name).read_bytes(), Limits())


def test_sections_at_headings_atx_and_setext() -> None:
    [item] = _load("guide.md")
    assert item.title == "Membership guide"
    assert item.external_id == "document"
    assert [s.heading for s in item.sections] == ["Membership guide", "Services", "Contact"]
    services = item.sections[1].text
    assert "# not a heading: inside a code fence" in services
    assert "(see our site & newsletter)" in services  # inline HTML and entities removed


def test_plain_text_title_is_the_file_name() -> None:
    [item] = _load("notes.txt")
    assert item.title == "notes.txt"
    assert (
        item.text == "Plain notes without any heading.\n\nSecond paragraph with tabs and spaces."
    )


def test_front_matter_makes_an_opportunity() -> None:
    [item] = _load("funding_call.md")
    opp = item.opportunity
    assert opp is not None
    assert item.external_id == opp.id == "CB-2026-001"
    assert item.title == opp.title == "Regional Biotech Seed Call 2026"
    assert item.url == opp.url == "https://example.org/calls/cb-2026-001"
    assert opp.kind == "funding_call"
    assert opp.deadlines == (date(2026, 5, 15), date(2026, 9, 30))
    assert opp.two_stage is True
    assert opp.opening_date == date(2026, 3, 1)
    assert (opp.budget_total_eur, opp.budget_max_eur) == (2_500_000, 150_000)
    assert opp.countries == ("Germany", "Austria")
    assert opp.org_types == ("SME", "start-up")
    assert opp.keywords == ("biotech", "diagnostics")
    assert opp.sme_only is True
    assert item.metadata["audience"] == "members"
    assert [s.heading for s in item.sections] == [None, "About the call", "How to apply"]


def test_front_matter_without_kind_is_metadata_only() -> None:
    text = b"---\ntitle: Notes\nauthor: Ana\n---\nBody text.\n"
    [item] = load_markdown("n.md", text, Limits())
    assert item.opportunity is None
    assert item.title == "Notes"
    assert item.metadata == {"title": "Notes", "author": "Ana"}
    assert item.text == "Body text."


def test_front_matter_block_lists() -> None:
    fields, body = split_front_matter("---\nkeywords:\n  - a\n  - b\n---\nrest")
    assert fields == {"keywords": ["a", "b"]}
    assert body == "rest"


def test_a_leading_rule_is_not_front_matter() -> None:
    fields, _ = split_front_matter("---\nJust a paragraph, not a field list\n---\n")
    assert fields == {}


def test_empty_text() -> None:
    with pytest.raises(EmptyInput):
        load_markdown("e.md", b"\n\n   \n", Limits())


def test_plain_text_title_is_a_short_first_line(tmp_path) -> None:
    from ingest.loaders import parse_file

    path = tmp_path / "rules.txt"
    path.write_text("LAB RENTAL CONDITIONS\n\nBenches cost EUR 420 a month.\n")
    [item] = parse_file(path)
    assert item.title == "LAB RENTAL CONDITIONS"
