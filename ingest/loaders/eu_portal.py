"""Vocabulary of the EU Funding & Tenders Portal: programmes, statuses, types of action, links."""

from __future__ import annotations

import re

__all__ = ["portal_topic_url", "programme_name", "status_label", "type_of_action_code"]

_PORTAL = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities"

STATUS_CODES = {
    "31094501": "Forthcoming",
    "31094502": "Open",
    "31094503": "Closed",
}

# Identifier prefix (first dash-separated token, upper case) -> programme name.
_PROGRAMMES = {
    "HORIZON": "Horizon Europe",
    "ERC": "Horizon Europe",
    "EU4H": "EU4Health",
    "DIGITAL": "Digital Europe",
    "LIFE": "LIFE",
    "CEF": "Connecting Europe Facility",
    "EDF": "European Defence Fund",
    "ERASMUS": "Erasmus+",
    "CERV": "CERV",
    "CREA": "Creative Europe",
    "SMP": "Single Market Programme",
    "EURATOM": "Euratom",
    "RFCS": "RFCS",
    "I3": "Interregional Innovation",
    "EMFAF": "EMFAF",
    "ESF": "ESF+",
    "ISF": "ISF",
    "JUST": "Justice",
    "PPPA": "Pilot Projects & Preparatory Actions",
    "EUBA": "EU Agencies",
    "UCPM": "Union Civil Protection Mechanism",
    "RENEWFM": "Renewable Energy FM",
    "PERI": "Pericles IV",
    "ERDFTA": "ERDF-TA",
    "SOCPL": "Social Prerogatives",
    "AGRIP": "Promotion of Agricultural Products",
}

_ACTION_NAMES = (
    ("research and innovation actions", "RIA"),
    ("innovation actions", "IA"),
    ("coordination and support actions", "CSA"),
    ("cofund", "COFUND"),
    ("pre-commercial procurement", "PCP"),
    ("public procurement of innovative solutions", "PPI"),
    ("eic accelerator", "EIC-ACC"),
    ("eic equity only", "EIC-EQU"),
    ("eic grants", "EIC"),
    ("erc proof of concept", "ERC-POC"),
    ("msca staff exchanges", "MSCA-SE"),
    ("msca doctoral networks", "MSCA-DN"),
    ("msca postdoctoral fellowships", "MSCA-PF"),
)
_PREFIX_WORDS = re.compile(r"^(?:[A-Z][A-Z0-9+-]*\s+)+(?=[A-Za-z])")
_WS = re.compile(r"\s+")


def programme_name(identifier: str) -> str | None:
    """Return a readable programme name from a topic identifier (``HORIZON-...``)."""
    if identifier.startswith("EuropeAid/"):
        return "EU External Action (EuropeAid)"
    head = identifier.split("-", 1)[0].upper()
    return _PROGRAMMES.get(head)


def status_label(value: str | None) -> str | None:
    """Return the readable status for a portal status code, or the value itself."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text in STATUS_CODES:
        return STATUS_CODES[text]
    return text[:1].upper() + text[1:]


def type_of_action_code(text: str | None, code: str | None = None) -> str | None:
    """Return a short type-of-action code (RIA, IA, CSA ...) from the portal's wording.

    Args:
        text: The ``typesOfAction`` wording, e.g. ``"HORIZON  Research and Innovation Actions"``.
        code: A portal code such as ``"HORIZON-EIC-ACC"``, used when the wording is not known.
    """
    wording = _WS.sub(" ", text or "").strip()
    lower = wording.lower()
    for name, short in _ACTION_NAMES:
        if name in lower:
            return short
    if code:
        short = re.sub(r"^[A-Z0-9]+-", "", code.strip()) if "-" in code else code.strip()
        if short and short.lower() not in ("grant", "grants"):
            return short
    if not wording:
        return None
    stripped = _PREFIX_WORDS.sub("", wording)
    return stripped or wording


def portal_topic_url(identifier: str) -> str:
    """Return the Funding & Tenders Portal page of a topic."""
    return f"{_PORTAL}/topic-details/{identifier}"
