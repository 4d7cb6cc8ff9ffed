"""Eligible countries and organisation types, where conditions text states them plainly.

Deliberately conservative: only a few explicit phrasings are recognised, and anything else
gives an empty answer rather than a guess. The "described in Annex B of the General Annexes"
wording of most Horizon Europe topics, for instance, yields no countries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Eligibility", "eligibility"]

_COUNTRIES = (
    "Austria|Belgium|Bulgaria|Croatia|Cyprus|Czechia|Denmark|Estonia|Finland|France|Germany|"
    "Greece|Hungary|Ireland|Italy|Latvia|Lithuania|Luxembourg|Malta|Netherlands|Poland|"
    "Portugal|Romania|Slovakia|Slovenia|Spain|Sweden|Iceland|Liechtenstein|Norway|Switzerland|"
    "United Kingdom|Albania|Armenia|Bosnia and Herzegovina|Faroe Islands|Georgia|Israel|Kosovo|"
    "Moldova|Montenegro|North Macedonia|Serbia|Tunisia|Türkiye|Turkey|Ukraine|Canada|"
    "New Zealand|Japan|Korea|Egypt|Morocco|United States of America|United States|"
    "Angola|Benin|Botswana|Burkina Faso|Burundi|Cabo Verde|Cameroon|Central African Republic|"
    "Chad|Comoros|Congo|Côte d’Ivoire|Côte d'Ivoire|Djibouti|Equatorial Guinea|Eritrea|"
    "Eswatini|Ethiopia|Gabon|Gambia|Ghana|Guinea-Bissau|Guinea|Kenya|Lesotho|Liberia|"
    "Madagascar|Malawi|Mali|Mauritania|Mauritius|Mozambique|Namibia|Niger|Nigeria|Rwanda|"
    "Sao Tome and Principe|Senegal|Seychelles|Sierra Leone|Somalia|South Africa|South Sudan|"
    "Sudan|Tanzania|Togo|Uganda|Zambia|Zimbabwe"
)
_COUNTRY = re.compile(r"(?<![\w-])(" + _COUNTRIES + r")(?![\w-])")
_CANONICAL = {
    "Turkey": "Türkiye",
    "United States of America": "United States",
    "Côte d'Ivoire": "Côte d’Ivoire",
}
_LIST_START = re.compile(
    r"(?:established in one of the following countries|eligible countries are)\s*:", re.I
)
_LIST_END = re.compile(r"scientific project leader|consortium composition|\n\s*\n|\b[B-H]\. [A-Z]")
_SENTENCE = re.compile(r"(?<=[.;])\s+(?=[A-Z(])")
_MS_OR_AC = re.compile(
    r"established (?:in|within) (?:an? )?(?:EU )?Member States? or (?:an? )?"
    r"(?:Horizon Europe )?Associated Countr",
    re.I,
)
_SME = re.compile(
    r"single company classified as an? SME|participation is limited to SMEs|"
    r"\bonly (?:open to )?SMEs\b|\bopen only to SMEs\b|\bSMEs only\b|"
    r"applicants? must be (?:an? )?SMEs?\b",
    re.I,
)
_MIDCAP = re.compile(r"small mid-?caps?", re.I)
_STARTUP = re.compile(r"including start-?ups", re.I)


@dataclass(frozen=True)
class Eligibility:
    """What conditions text plainly says about who may apply."""

    countries: tuple[str, ...] = ()
    org_types: tuple[str, ...] = ()
    sme_only: bool | None = None


def eligibility(text: str) -> Eligibility:
    """Extract eligible countries and organisation types from conditions text."""
    if not text:
        return Eligibility()
    countries = _countries(text)
    match = _SME.search(text)
    if match is None:
        return Eligibility(countries=countries)
    context = text[match.start() : match.end() + 800]
    types = ["SME"]
    if _STARTUP.search(context):
        types.append("start-up")
    if _MIDCAP.search(context):
        types.append("small mid-cap")
    return Eligibility(
        countries=countries, org_types=tuple(types), sme_only="small mid-cap" not in types
    )


def _countries(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for start in _LIST_START.finditer(text):
        window = text[start.end() : start.end() + 4000]
        end = _LIST_END.search(window)
        for match in _COUNTRY.finditer(window[: end.start()] if end else window):
            _add(found, _CANONICAL.get(match.group(1), match.group(1)))
    if not found:
        for sentence in _SENTENCE.split(text):
            lower = sentence.lower()
            if (
                _MS_OR_AC.search(sentence)
                and "coordinator" not in lower
                and ("eligib" in lower or "must" in lower)
            ):
                found = ["EU Member States", "Associated Countries"]
                break
    return tuple(found)


def _add(found: list[str], name: str) -> None:
    if name not in found:
        found.append(name)
