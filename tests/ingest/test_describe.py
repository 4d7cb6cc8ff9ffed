from datetime import UTC, date, datetime

from ingest.loaders.describe import format_date, header_text, opportunity_item
from ingest.types import Opportunity


def test_format_date() -> None:
    assert format_date(date(2026, 4, 6)) == "6 April 2026 (2026-04-06)"


def test_header_lists_the_key_facts() -> None:
    opp = Opportunity(
        id="C-1",
        kind="funding_call",
        title="Seed call",
        programme="Regional fund",
        status="Open",
        deadlines=(date(2026, 5, 1), date(2026, 9, 1)),
        two_stage=True,
        budget_total_eur=2_000_000,
        budget_min_eur=50_000,
        budget_max_eur=100_000,
        countries=("Germany",),
        sme_only=True,
    )
    assert header_text(opp, budget_note="shared with C-2").splitlines() == [
        "Seed call",
        "Funding call: C-1",
        "Programme: Regional fund",
        "Status: Open",
        "Deadlines: 1 May 2026 (2026-05-01) (stage 1), 1 September 2026 (2026-09-01) (stage 2)",
        "Two-stage submission",
        "Budget: EUR 2,000,000 in total (shared with C-2); EUR 50,000 to EUR 100,000 per grant",
        "Eligible countries: Germany",
        "Only SMEs may apply",
    ]


def test_event_header_shows_times_not_deadlines() -> None:
    opp = Opportunity(
        id="E-1",
        kind="event",
        title="Meetup",
        deadlines=(date(2026, 6, 1),),
        starts_at=datetime(2026, 6, 1, tzinfo=UTC),
        ends_at=datetime(2026, 6, 1, 18, 30, tzinfo=UTC),
        location="Lyon",
    )
    assert header_text(opp).splitlines() == [
        "Meetup",
        "Event: E-1",
        "Starts: 1 June 2026 (2026-06-01)",
        "Ends: 1 June 2026 (2026-06-01) 18:30 UTC",
        "Location: Lyon",
    ]


def test_opportunity_item() -> None:
    opp = Opportunity(id="X", kind="other", title="T", url="https://example.org")
    item = opportunity_item(opp, [("Body", " text "), ("Empty", "  ")], metadata={"a": "b"})
    assert (item.external_id, item.title, item.url, item.opportunity) == (
        "X",
        "T",
        "https://example.org",
        opp,
    )
    assert [s.heading for s in item.sections] == [None, "Body"]
    assert item.metadata == {"a": "b"}
