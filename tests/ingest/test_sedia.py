import json
from datetime import date

import pytest

from ingest.errors import EmptyInput, InvalidRecords
from ingest.loaders.sedia import is_sedia, load_sedia
from ingest.types import Opportunity, ParsedItem
from tests.ingest.builders import DATA


@pytest.fixture
def items() -> dict[str, ParsedItem]:
    doc = json.loads((DATA / "topics.sedia.json").read_text(encoding="utf-8"))
    return {item.external_id: item for item in load_sedia("topics.sedia.json", doc)}


def _opp(item: ParsedItem) -> Opportunity:
    assert item.opportunity is not None
    return item.opportunity


def test_english_copy_wins_and_lone_translations_stay(items: dict[str, ParsedItem]) -> None:
    assert list(items) == [
        "HX-2027-02-TOOL-01-two-stage",
        "HX-2026-01-AIC-01",
        "HX-2026-01-AIC-02",
        "HX-2026-01-ONLYBG-01",
    ]
    assert items["HX-2027-02-TOOL-01-two-stage"].title == "Two-stage diagnostics topic"
    assert items["HX-2026-01-ONLYBG-01"].metadata["language"] == "bg"


def test_two_stage_topic(items: dict[str, ParsedItem]) -> None:
    item = items["HX-2027-02-TOOL-01-two-stage"]
    opp = _opp(item)
    assert opp.deadlines == (date(2027, 4, 13), date(2027, 9, 22))
    assert opp.two_stage is True
    assert opp.opening_date == date(2026, 2, 10)
    assert opp.status == "Forthcoming"
    assert opp.type_of_action == "RIA"
    assert (opp.budget_total_eur, opp.budget_min_eur, opp.budget_max_eur) == (
        30_000_000,
        5_000_000,
        7_000_000,
    )
    assert opp.keywords == ("Biomarkers", "Diagnostics")
    assert opp.url == item.url
    assert item.url is not None
    assert item.url.endswith("/topic-details/HX-2027-02-TOOL-01-two-stage")
    headings = [s.heading for s in item.sections]
    assert headings == [
        None,
        "Call",
        "Destination",
        "Expected Outcome",
        "Scope",
        "Conditions",
        "Support information",
    ]
    assert item.sections[1].text == "Test call & more (HX-2027-02-TOOL-01)"
    assert item.sections[3].text == "Better diagnostics."
    assert "SEDIA_SCRIPT" not in item.text
    assert "(stage 1)" in item.sections[0].text


def test_shared_budget_block_is_recorded_once_per_topic(items: dict[str, ParsedItem]) -> None:
    one, two = items["HX-2026-01-AIC-01"], items["HX-2026-01-AIC-02"]
    assert _opp(one).budget_total_eur == _opp(two).budget_total_eur == 6_000_000
    assert one.metadata["budget_shared_with"] == "HX-2026-01-AIC-02"
    assert two.metadata["budget_shared_with"] == "HX-2026-01-AIC-01"
    assert one.metadata["budget_blocks"] == two.metadata["budget_blocks"] == "2"
    assert "shared with HX-2026-01-AIC-02" in one.text


def test_status_codes_and_eligibility(items: dict[str, ParsedItem]) -> None:
    one = _opp(items["HX-2026-01-AIC-01"])
    assert one.status == "Open"
    assert _opp(items["HX-2026-01-AIC-02"]).status == "Closed"
    assert one.countries == ("EU Member States", "Associated Countries")
    assert one.org_types == ("SME",)
    assert one.sme_only is True
    two_stage = _opp(items["HX-2027-02-TOOL-01-two-stage"])
    assert (two_stage.countries, two_stage.org_types, two_stage.sme_only) == ((), (), None)


def test_recognises_shape() -> None:
    assert is_sedia({"results": [{"metadata": {}}]})
    assert not is_sedia({"results": [{"id": 1}]})
    assert not is_sedia([])


def test_empty_and_invalid() -> None:
    with pytest.raises(EmptyInput):
        load_sedia("x", {"results": []})
    with pytest.raises(InvalidRecords):
        load_sedia("x", {"results": [{"metadata": {"title": ["no id"]}}]})
