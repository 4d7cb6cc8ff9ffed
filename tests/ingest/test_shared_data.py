"""The loaders on the real, messy files in ../shared/data (skipped when absent)."""

from __future__ import annotations

import functools
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from ingest.loaders import parse_file
from ingest.types import ParsedItem
from tests.ingest.checks import assert_clean

_MOJIBAKE = re.compile(r"â€|Ã[\x80-\xbf©¨§¡]|Â\xa0")


@functools.cache
def _parse(path: Path) -> list[ParsedItem]:
    return parse_file(path)


def _items(shared_dir: Path, relative: str) -> list[ParsedItem]:
    return _parse(shared_dir / "data" / relative)


def _by_id(items: list[ParsedItem]) -> dict[str, ParsedItem]:
    return {item.external_id: item for item in items}


def test_every_shared_file_parses_cleanly(shared_dir: Path) -> None:
    files = sorted(p for p in (shared_dir / "data").rglob("*") if p.is_file())
    assert files
    for path in files:
        assert_clean(_parse(path))


def test_hlth_sedia_topics(shared_dir: Path) -> None:
    items = _items(shared_dir, "eu-ft-sedia-topics/horizon_hlth_2026_2027_topics.sedia.json")
    assert len(items) == 38
    assert all(item.metadata["language"] == "en" for item in items)
    topics = _by_id(items)
    two_stage = topics["HORIZON-HLTH-2027-02-DISEASE-14-two-stage"].opportunity
    assert two_stage is not None
    assert two_stage.deadlines == (date(2027, 4, 13), date(2027, 9, 22))
    assert two_stage.two_stage is True
    assert two_stage.budget_total_eur == 39_300_000
    assert (two_stage.budget_min_eur, two_stage.budget_max_eur) == (10_000_000, 10_000_000)
    tool = topics["HORIZON-HLTH-2026-01-TOOL-03"].opportunity
    assert tool is not None
    assert (tool.type_of_action, tool.status, tool.programme) == (
        "RIA",
        "Forthcoming",
        "Horizon Europe",
    )
    assert tool.budget_total_eur == 49_000_000
    cofund = topics["HORIZON-HLTH-2026-02-DISEASE-12"].opportunity
    assert cofund is not None
    assert cofund.budget_total_eur == 48_700_000 + 42_600_000  # two budget years
    for item in items:
        opp = item.opportunity
        assert opp is not None
        assert opp.deadlines
        assert opp.url == item.url
        for amount in (opp.budget_total_eur, opp.budget_min_eur, opp.budget_max_eur):
            assert amount is None or type(amount) is int
        assert opp.two_stage == ("two-stage" in opp.id)
        assert "Expected Outcome" in [s.heading for s in item.sections]


def test_eic_sedia_topics_share_a_budget_block(shared_dir: Path) -> None:
    items = _by_id(_items(shared_dir, "eu-ft-sedia-topics/horizon_eic_eie_2026_topics.sedia.json"))
    assert len(items) == 10
    one, two = items["HORIZON-EIC-2026-AIC-01"], items["HORIZON-EIC-2026-AIC-02"]
    assert one.opportunity is not None
    assert two.opportunity is not None
    assert one.opportunity.budget_total_eur == two.opportunity.budget_total_eur == 6_000_000
    assert one.metadata["budget_shared_with"] == "HORIZON-EIC-2026-AIC-02"
    accelerator = items["HORIZON-EIC-2026-ACCELERATOR-01"].opportunity
    assert accelerator is not None
    assert accelerator.budget_total_eur is None  # the portal says 0
    assert "SME" in accelerator.org_types


def test_cordis_snapshot(shared_dir: Path) -> None:
    items = _items(shared_dir, "eu-ft-calls-cordisdata/open_calls_2026-08-10.jsonl.gz")
    assert len(items) == 629
    assert not [item.title for item in items if _MOJIBAKE.search(item.title)]
    assert not [item.external_id for item in items if _MOJIBAKE.search(item.text)]
    statuses = Counter(item.opportunity.status for item in items if item.opportunity)
    assert statuses == {"Open": 363, "Forthcoming": 262, "Closed": 4}
    assert sum(1 for item in items if item.opportunity and item.opportunity.two_stage) == 28
    erc = _by_id(items)["ERC-2026-POC"]
    assert "Objective\nThe ERC Proof of Concept Grants" in erc.text


def test_repaired_subset_matches_our_repair(shared_dir: Path) -> None:
    subset = _items(shared_dir, "eu-ft-calls-cordisdata/lifescience_sme_subset.json")
    assert len(subset) == 83
    full = _by_id(_items(shared_dir, "eu-ft-calls-cordisdata/open_calls_2026-08-10.jsonl.gz"))
    assert [item.text for item in subset] == [full[item.external_id].text for item in subset]


def test_cascade_calls(shared_dir: Path) -> None:
    items = _items(shared_dir, "eu-ft-cascade-calls/cascade_and_other_calls_2026-08-22.json")
    assert len(items) == 108
    assert {item.opportunity.kind for item in items if item.opportunity} == {"funding_call"}
    eurostars = [item for item in items if "CALL 12 of Eurostars-3" in item.title]
    assert len(eurostars) == 1
    opp = eurostars[0].opportunity
    assert opp is not None
    assert opp.deadlines == (date(2027, 3, 4),)
    assert eurostars[0].metadata["parent_topic"] == "HORIZON-EIE-2021-INNOVSMES-01-01"
    assert not [item.title for item in items if "&amp;" in item.title]


@pytest.mark.parametrize(
    ("name", "events"),
    [("changelog_open_2026-08-10.json", 629), ("changelog_2026-08-11.json", 8)],
)
def test_changelogs(shared_dir: Path, name: str, events: int) -> None:
    [item] = _items(shared_dir, f"eu-ft-calls-cordisdata/{name}")
    day = re.search(r"\d{4}-\d{2}-\d{2}", name).group(0)  # type: ignore[union-attr]
    assert item.external_id == f"changelog-{day}"
    assert item.title == f"EU call change log {day}"
    assert item.metadata["events"] == str(events)
    assert len(item.sections[-1].text.splitlines()) == events


def test_portal_html_page(shared_dir: Path) -> None:
    [item] = _items(shared_dir, "eu-ft-sedia-topics/ft_portal_calls_for_proposals_digital.html")
    text = item.text
    assert "107 item(s) found" in text
    assert text.count("Opening date:") == 100  # the 100 result cards of the first page
    for noise in ("function(", "var ", "{", "}", "@media", "window."):
        assert noise not in text


def test_work_programme_pdf(shared_dir: Path) -> None:
    [item] = _items(shared_dir, "he-wp-health-2026-2027/wp-4-health_horizon-2026-2027_en.pdf")
    assert item.title == "4. Health"
    assert item.metadata["pages"] == "211"
    assert item.sections[0].heading == "p. 1"
    assert len(item.sections) >= 205
    assert not [s for s in item.sections if "Part 4 - Page" in s.text]
    assert "HORIZON-HLTH-2027-02-DISEASE-14-two-stage" in item.text


def test_guidance_pdfs(shared_dir: Path) -> None:
    [guide] = _items(shared_dir, "ec-guidance-pdfs/programme-guide_horizon_en.pdf")
    assert guide.title.startswith("EU Grants: HE Programme Guide")
    [lump] = _items(shared_dir, "ec-guidance-pdfs/how-to-manage-your-lump-sum-grants_en.pdf")
    assert lump.title.startswith("EU Grants: How to manage your lump sum grants")


def test_source_notes_are_plain_documents(shared_dir: Path) -> None:
    [item] = _items(shared_dir, "eu-ft-calls-cordisdata/SOURCE.md")
    assert item.external_id == "document"
    assert item.opportunity is None
    assert "Origin" in [s.heading for s in item.sections]
