from datetime import date

import pytest

from ingest.errors import EmptyInput, InvalidRecords
from ingest.loaders.cordis import is_cordis_record, load_cordis
from ingest.loaders.jsondoc import decode_values
from ingest.loaders.text import decode_text
from tests.ingest.builders import DATA


def _records() -> list[object]:
    return decode_values(decode_text((DATA / "calls.cordis.jsonl").read_bytes()))


def test_concatenated_records_with_bom_are_decoded() -> None:
    assert len(_records()) == 3


def test_records_become_items_with_repaired_text() -> None:
    first, second = load_cordis("calls.cordis.jsonl", _records())
    assert first.external_id == "HORIZON-HLTH-2026-01-TEST-01"
    assert first.title == "Women’s health – “next” steps"
    assert "â€" not in first.text
    assert [s.heading for s in first.sections] == [
        None,
        "Call",
        "Expected Outcome",
        "Scope",
        "Conditions",
        "Support information",
    ]
    assert first.sections[3].text == "Proposals must address the patient’s needs. It is open."
    conditions = first.sections[4].text
    assert conditions.startswith("General conditions\n1. Admissibility")
    assert '">' not in conditions
    opp = first.opportunity
    assert opp is not None
    assert opp.status == "Open"
    assert opp.deadlines == (date(2026, 4, 16),)
    assert opp.two_stage is False  # "stage" says two-stage on every record; ignored
    assert (opp.budget_min_eur, opp.budget_max_eur) == (None, 4_000_000)
    assert opp.type_of_action == "RIA"
    assert opp.keywords == ("Health",)
    assert first.metadata["expected_grants"] == "3"
    assert second.title == "CONVOCATORIA TEMÁTICA"
    assert second.opportunity is not None
    assert second.opportunity.two_stage is True
    assert second.opportunity.status == "Forthcoming"


def test_recognises_records() -> None:
    assert is_cordis_record({"topicId": "X", "callStatus": "open"})
    assert not is_cordis_record({"id": "X"})


def test_no_usable_record() -> None:
    with pytest.raises(InvalidRecords):
        load_cordis("x", [{"topicId": "", "title": "t"}, "junk"])
    with pytest.raises(EmptyInput):
        load_cordis("x", [])
