import json

import pytest

from ingest.errors import EmptyInput
from ingest.loaders.changelog import is_changelog, load_changelog
from tests.ingest.builders import DATA


def test_one_item_listing_events() -> None:
    doc = json.loads((DATA / "changelog_2026-08-11.json").read_text())
    [item] = load_changelog("changelog_2026-08-11.json", doc)
    assert item.external_id == "changelog-2026-08-11"
    assert item.title == "EU call change log 2026-08-11"
    assert item.opportunity is None
    assert item.sections[0].text == "new: 1, changed: 1, auto closed: 0"
    assert item.sections[1].text.splitlines() == [
        "NEW HORIZON-X-01 (1TOPICSen)",
        "METADATA_UPDATED HORIZON-X-02 (2TOPICSen): changed deadline, title",
    ]


def test_date_from_the_file_name_when_missing() -> None:
    [item] = load_changelog("changelog_2026-01-02.json", {"events": [{"type": "NEW"}]})
    assert item.external_id == "changelog-2026-01-02"


def test_shape_and_empty() -> None:
    assert is_changelog({"date": "d", "events": []})
    with pytest.raises(EmptyInput):
        load_changelog("c.json", {"date": "2026-01-01", "events": []})
