import json
from datetime import date

import pytest

from ingest.errors import EmptyInput, InvalidRecords
from ingest.loaders.cascade import is_cascade, load_cascade
from tests.ingest.builders import DATA


def test_records_become_funding_calls() -> None:
    doc = json.loads((DATA / "calls.cascade.json").read_text())
    eurostars, prospect = load_cascade("calls.cascade.json", doc)
    opp = eurostars.opportunity
    assert opp is not None
    assert eurostars.external_id == opp.id == "100COMPETITIVE_CALLen"
    assert eurostars.title == "Eurostars & friends: CALL 12"
    assert opp.kind == "funding_call"
    assert opp.programme == "Horizon Europe"
    assert opp.status == "Forthcoming"
    assert opp.opening_date == date(2026, 12, 17)
    assert opp.deadlines == (date(2027, 3, 4),)
    assert "HORIZON-EIE-2021-INNOVSMES-01-01" in opp.keywords
    assert eurostars.metadata["parent_topic"] == "HORIZON-EIE-2021-INNOVSMES-01-01"
    assert eurostars.metadata["call_type"] == "Cascade funding calls"
    p_opp = prospect.opportunity
    assert p_opp is not None
    assert p_opp.deadlines == (date(2026, 9, 30),)  # the date as stated, not shifted
    assert p_opp.programme == "EU External Action (EuropeAid)"
    assert p_opp.budget_total_eur == 1_500_000
    assert prospect.sections[-1].text == "Support for inclusion."


def test_shape_and_failures() -> None:
    assert is_cascade({"grants": []})
    with pytest.raises(EmptyInput):
        load_cascade("x", {"grants": []})
    with pytest.raises(InvalidRecords):
        load_cascade("x", {"grants": [{"id": None}, "junk"]})
