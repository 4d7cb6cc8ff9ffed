import logging
from datetime import date

import pytest

from ingest.errors import CorruptInput, EmptyInput, InvalidRecords
from ingest.loaders.jsondoc import load_json
from ingest.loaders.limits import Limits
from ingest.loaders.records import load_csv
from tests.ingest.builders import DATA


def test_csv_rows_become_opportunities_and_bad_rows_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        items = load_csv("opportunities.csv", (DATA / "opportunities.csv").read_bytes(), Limits())
    assert [i.external_id for i in items] == ["OPP-1", "OPP-3"]
    assert [r.getMessage() for r in caplog.records] == [
        "opportunities.csv row 3 skipped: no id",
        "opportunities.csv row 5 skipped: no title",
    ]
    first = items[0]
    opp = first.opportunity
    assert opp is not None
    assert opp.deadlines == (date(2026, 4, 30), date(2026, 10, 31))
    assert opp.two_stage is False
    assert (opp.budget_total_eur, opp.budget_min_eur, opp.budget_max_eur) == (
        1_500_000,
        None,
        60_000,
    )
    assert opp.countries == ("Germany", "Austria")
    assert opp.keywords == ("digital health", "vouchers")
    assert opp.sme_only is True
    assert first.metadata == {"audience": "members"}
    assert first.sections[0].text.startswith("Digital health voucher\nFunding call: OPP-1")
    assert "Deadlines: 30 April 2026 (2026-04-30), 31 October 2026 (2026-10-31)" in first.text
    assert first.sections[-1].text == "Vouchers for digital health pilots, up to EUR 60,000."
    assert items[1].opportunity is not None
    assert items[1].opportunity.kind == "incubator_offer"


def test_semicolon_csv_with_bom() -> None:
    items = load_csv("semicolon.csv", (DATA / "semicolon.csv").read_bytes(), Limits())
    x1, x2 = (i.opportunity for i in items)
    assert x1 is not None
    assert x2 is not None
    assert x1.kind == "funding_call"
    assert x1.deadlines == (date(2026, 4, 16),)
    assert x1.budget_total_eur == 2_500_000
    assert x2.kind == "event"
    assert items[0].sections[-1].text == "Text; with a semicolon inside quotes"


def test_csv_without_id_column() -> None:
    with pytest.raises(InvalidRecords, match="no id column"):
        load_csv("x.csv", b"name,title\na,b\n", Limits())


def test_csv_with_only_bad_rows() -> None:
    with pytest.raises(InvalidRecords, match="none of the 2 rows"):
        load_csv("x.csv", b"id,title\n,a\nb,\n", Limits())


def test_csv_with_header_only() -> None:
    with pytest.raises(EmptyInput):
        load_csv("x.csv", b"id,title\n", Limits())


def test_json_object_with_opportunities_list() -> None:
    items = load_json("o.json", (DATA / "opportunities.json").read_bytes(), Limits())
    assert [i.external_id for i in items] == ["J-1", "J-2"]
    summit = items[0].opportunity
    assert summit is not None
    assert summit.kind == "event"
    assert summit.location == "Vienna"
    assert summit.starts_at is not None
    assert summit.starts_at.utcoffset() is not None
    assert summit.keywords == ("summit", "networking")
    assert items[1].opportunity is not None
    assert items[1].opportunity.sme_only is False


def test_jsonl() -> None:
    items = load_json("o.jsonl", (DATA / "opportunities.jsonl").read_bytes(), Limits())
    assert [(i.external_id, i.opportunity.kind) for i in items if i.opportunity] == [
        ("L-1", "funding_call"),
        ("L-2", "partnering"),
    ]
    assert items[0].opportunity is not None
    assert items[0].opportunity.deadlines == (date(2026, 7, 1),)


def test_bare_list_and_missing_kind() -> None:
    [item] = load_json("o.json", b'[{"id": "a", "title": "T"}]', Limits())
    assert item.opportunity is not None
    assert item.opportunity.kind == "other"


def test_invalid_json() -> None:
    with pytest.raises(CorruptInput, match="line 2"):
        load_json("o.json", b'[{"id": 1},\n oops]', Limits())


def test_empty_list() -> None:
    with pytest.raises(EmptyInput):
        load_json("o.json", b"[]", Limits())
