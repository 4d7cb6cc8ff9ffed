import json

import pytest

from ingest.errors import CorruptInput, EmptyInput, UnsupportedFormat
from ingest.loaders.jsondoc import decode_values, load_json
from ingest.loaders.limits import Limits
from tests.ingest.builders import DATA


def test_decode_values_single_many_and_concatenated() -> None:
    assert decode_values('{"a": 1}') == [{"a": 1}]
    assert decode_values('{"a": 1}\n{"a": 2}\n') == [{"a": 1}, {"a": 2}]
    assert decode_values('\ufeff{"a":1}{"a":2}[3]') == [{"a": 1}, {"a": 2}, [3]]
    assert decode_values("  ") == []


def test_deep_nesting_is_corrupt_not_a_crash() -> None:
    with pytest.raises(CorruptInput):
        decode_values("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    ("name", "first_id"),
    [
        ("topics.sedia.json", "HX-2027-02-TOOL-01-two-stage"),
        ("calls.cascade.json", "100COMPETITIVE_CALLen"),
        ("changelog_2026-08-11.json", "changelog-2026-08-11"),
        ("calls.cordis.jsonl", "HORIZON-HLTH-2026-01-TEST-01"),
        ("opportunities.json", "J-1"),
    ],
)
def test_routes_by_shape(name: str, first_id: str) -> None:
    assert load_json(name, (DATA / name).read_bytes(), Limits())[0].external_id == first_id


def test_cordis_records_under_records_key() -> None:
    record = {"topicId": "T-1", "title": "Topic", "callStatus": "open"}
    data = json.dumps({"derived_from": "x", "records": [record]}).encode()
    [item] = load_json("subset.json", data, Limits())
    assert item.external_id == "T-1"


def test_single_record_object() -> None:
    [item] = load_json("one.json", b'{"id": "A", "Title": "Alone"}', Limits())
    assert item.title == "Alone"


def test_unknown_shapes() -> None:
    with pytest.raises(UnsupportedFormat):
        load_json("config.json", b'{"debug": true}', Limits())
    with pytest.raises(UnsupportedFormat):
        load_json("n.json", b"42", Limits())
    with pytest.raises(EmptyInput):
        load_json("n.json", b"  \n", Limits())
