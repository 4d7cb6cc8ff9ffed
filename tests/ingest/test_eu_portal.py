import pytest

from ingest.loaders.eu_portal import (
    portal_topic_url,
    programme_name,
    status_label,
    type_of_action_code,
)


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("HORIZON-HLTH-2026-01-TOOL-03", "Horizon Europe"),
        ("EU4H-2026-PJ-01", "EU4Health"),
        ("DIGITAL-2026-AI-01", "Digital Europe"),
        ("EuropeAid/186723/DD/ACT/EG", "EU External Action (EuropeAid)"),
        ("UNKNOWN-1", None),
    ],
)
def test_programme_name(identifier: str, expected: str | None) -> None:
    assert programme_name(identifier) == expected


@pytest.mark.parametrize(
    ("text", "code", "expected"),
    [
        ("HORIZON  Research and Innovation Actions", None, "RIA"),
        ("HORIZON JU Innovation Actions", None, "IA"),
        ("HORIZON Coordination and Support Actions", None, "CSA"),
        ("HORIZON Programme Cofund Actions", None, "COFUND"),
        ("HORIZON EIC Accelerator", "HORIZON-EIC-ACC", "EIC-ACC"),
        ("EDF Development Actions", "EDF-DA", "DA"),
        ("LIFE Project Grants", "Grant", "Project Grants"),
        ("", None, None),
    ],
)
def test_type_of_action_code(text: str, code: str | None, expected: str | None) -> None:
    assert type_of_action_code(text, code) == expected


def test_status_label() -> None:
    assert status_label("31094502") == "Open"
    assert status_label("forthcoming") == "Forthcoming"
    assert status_label(" ") is None


def test_portal_url() -> None:
    assert portal_topic_url("X-1").endswith("/opportunities/topic-details/X-1")
