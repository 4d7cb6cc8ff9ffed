from datetime import date

import pytest

from ingest.errors import CorruptInput, EmptyInput, UnsupportedFormat
from ingest.loaders.feed import load_feed
from ingest.loaders.limits import Limits
from tests.ingest.builders import DATA


def test_rss_entries_and_opportunity_categories() -> None:
    first, second = load_feed("feed.rss", (DATA / "feed.rss").read_bytes(), Limits())
    assert first.external_id == "news-0001"
    assert first.url == "https://example.org/news/seed-call"
    assert first.opportunity is not None
    assert first.opportunity.kind == "funding_call"
    assert first.opportunity.deadlines == (date(2026, 6, 30),)
    assert first.opportunity.keywords == ("biotech",)
    assert "The seed call is open." in first.text
    assert "RSS_SCRIPT" not in first.text
    assert "<" not in first.text
    assert second.external_id == "https://example.org/news/report"
    assert second.opportunity is None
    assert second.text == "Our annual report is online."
    assert second.metadata["feed"] == "BioCluster news"


def test_atom_entry_with_event_category() -> None:
    [entry] = load_feed("feed.atom", (DATA / "feed.atom").read_bytes(), Limits())
    assert entry.external_id == "urn:uuid:entry-1"
    assert entry.opportunity is not None
    assert entry.opportunity.kind == "event"
    assert entry.opportunity.deadlines == ()
    assert entry.text.endswith("Meet pharma partners.")


def test_deadline_category() -> None:
    feed = (
        b'<rss version="2.0"><channel><title>t</title><item><title>Call</title>'
        b"<guid>g1</guid><category>Funding call</category><category>deadline: 2026-01-31"
        b"</category><description>d</description></item></channel></rss>"
    )
    [item] = load_feed("f.rss", feed, Limits())
    assert item.opportunity is not None
    assert item.opportunity.deadlines == (date(2026, 1, 31),)


def test_feed_without_entries() -> None:
    feed = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    with pytest.raises(EmptyInput, match="no entries"):
        load_feed("f.rss", feed, Limits())


def test_xml_that_is_not_a_feed() -> None:
    with pytest.raises(UnsupportedFormat):
        load_feed("data.xml", b"<?xml version='1.0'?><catalog><book/></catalog>", Limits())


def test_malformed_feed() -> None:
    with pytest.raises(CorruptInput):
        load_feed("f.rss", b"<rss><channel><title>broken", Limits())
