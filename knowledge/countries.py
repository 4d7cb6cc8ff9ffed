"""Country names and ISO 3166 alpha-2 codes of the countries clusters' members come from."""

from __future__ import annotations

COUNTRIES: dict[str, str] = {
    "AT": "Austria",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "CH": "Switzerland",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GR": "Greece",
    "HR": "Croatia",
    "HU": "Hungary",
    "IE": "Ireland",
    "IL": "Israel",
    "IS": "Iceland",
    "IT": "Italy",
    "LI": "Liechtenstein",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MT": "Malta",
    "NL": "Netherlands",
    "NO": "Norway",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "RS": "Serbia",
    "SE": "Sweden",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "TR": "Türkiye",
    "UA": "Ukraine",
    "GB": "United Kingdom",
    "US": "United States",
}
_ALIASES = {
    "czech republic": "CZ",
    "deutschland": "DE",
    "espana": "ES",
    "españa": "ES",
    "holland": "NL",
    "the netherlands": "NL",
    "turkey": "TR",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "usa": "US",
    "el": "GR",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "eesti": "EE",
    "schweiz": "CH",
    "österreich": "AT",
    "catalonia": "ES",
    "catalunya": "ES",
}
_BY_NAME = {name.lower(): code for code, name in COUNTRIES.items()}


def country_code(text: str) -> str | None:
    """The alpha-2 code for a code or name ("de", "Germany", "Catalonia"), or None."""
    key = text.strip().lower().rstrip(".")
    if len(key) == 2 and key.upper() in COUNTRIES:
        return key.upper()
    return _BY_NAME.get(key) or _ALIASES.get(key)


__all__ = ["COUNTRIES", "country_code"]
