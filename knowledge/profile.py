"""A company profile as matching sees it, with the vocabularies the bot offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.countries import country_code

ORG_TYPES: dict[str, str] = {
    "sme": "SME",
    "start-up": "Start-up",
    "large": "Large company",
    "research": "Research organisation",
    "university": "University",
    "hospital": "Hospital or care provider",
    "other": "Other",
}
SIZES: tuple[str, ...] = ("1-9", "10-49", "50-249", "250+")
STAGES: dict[str, tuple[str, int]] = {
    "idea": ("Idea / research (TRL 1-3)", 2),
    "prototype": ("Prototype (TRL 4-6)", 5),
    "clinical": ("Clinical validation (TRL 7-8)", 7),
    "market": ("On the market (TRL 9)", 9),
}
LOOKING_FOR: dict[str, str] = {
    "funding": "Funding",
    "partners": "Partners",
    "investors": "Investors",
    "lab": "Lab space",
    "events": "Events",
}
# Categories of proactive message a person consents to one by one (GDPR: per category).
ALERT_CATEGORIES: dict[str, str] = {
    "funding": "Funding calls",
    "events": "Network meetings and events",
    "partners": "Partnering requests",
    "services": "Incubator and service offers",
    "news": "Cluster announcements",
}
CATEGORY_OF_KIND: dict[str, str] = {
    "funding_call": "funding",
    "event": "events",
    "partnering": "partners",
    "incubator_offer": "services",
    "other": "news",
}
FREQUENCIES: dict[str, str] = {
    "instant": "as they appear",
    "daily": "in a daily digest",
    "weekly": "in a weekly digest",
}
# What someone looking for X most likely wants to hear about.
CATEGORIES_FOR_INTEREST: dict[str, tuple[str, ...]] = {
    "funding": ("funding",),
    "partners": ("partners",),
    "investors": ("events", "news"),
    "lab": ("services",),
    "events": ("events",),
}

# Opportunity org_type labels in source data that admit each profile org type.
_ADMITTED_BY: dict[str, tuple[str, ...]] = {
    "sme": ("sme", "smes", "company", "companies", "enterprise", "private"),
    "start-up": ("start-up", "startup", "start-ups", "sme", "smes", "company", "companies"),
    "large": ("large", "company", "companies", "enterprise", "industry", "private"),
    "research": ("research", "research organisation", "rto", "academia", "university"),
    "university": ("university", "universities", "academia", "research", "higher education"),
    "hospital": ("hospital", "hospitals", "care provider", "care providers", "healthcare"),
    "other": (),
}


#: The fields of a profile file (``clusterbot match --profile``), in the order people read them.
PROFILE_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "sectors",
    "therapeutic_areas",
    "technologies",
    "stage",
    "trl",
    "country",
    "org_type",
    "funding_interest",
)
MAX_TERMS = 30
MAX_TEXT = 5000


@dataclass(frozen=True)
class Profile:
    """What a company does and looks for: the fields of ``clusterbot match --profile``."""

    name: str = ""
    description: str = ""
    sectors: tuple[str, ...] = ()
    therapeutic_areas: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    stage: str | None = None
    trl: int | None = None
    country: str | None = None
    org_type: str | None = None
    funding_interest: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        """Whether nothing that matching could use is known."""
        return not (
            self.description
            or self.sectors
            or self.therapeutic_areas
            or self.technologies
            or self.funding_interest
        )

    @property
    def text(self) -> str:
        """What the profile says about the company's work, as one text to embed."""
        parts = [self.description.strip()]
        for label, terms in (
            ("Therapeutic areas", self.therapeutic_areas),
            ("Technologies", self.technologies),
            ("Sectors", self.sectors),
        ):
            if terms:
                parts.append(f"{label}: {', '.join(terms)}.")
        return " ".join(p for p in parts if p)

    @property
    def readiness(self) -> int | None:
        """The TRL, given or implied by the stage."""
        if self.trl is not None:
            return self.trl
        return STAGES[self.stage][1] if self.stage in STAGES else None

    @classmethod
    def from_json(cls, data: object) -> Profile:
        """A profile from a JSON object; lists may also be comma-separated strings.

        Unknown fields are ignored (see :func:`unknown_fields`).

        Raises:
            ValueError: naming the field that is wrong and what was expected.
        """
        if not isinstance(data, dict):
            raise ValueError("a profile must be a JSON object with fields such as 'name'")

        def _list(key: str) -> tuple[str, ...]:
            value = data.get(key) or []
            if isinstance(value, str):
                value = value.split(",")
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"profile field {key!r} must be a list of strings")
            items = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
            if len(items) > MAX_TERMS:
                raise ValueError(f"profile field {key!r} has {len(items)} items; at most 30")
            return items

        def _text(key: str) -> str | None:
            value = data.get(key)
            if value is None:
                return None
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise ValueError(f"profile field {key!r} must be text of at most 5000 characters")
            return value.strip() or None

        trl = data.get("trl")
        if isinstance(trl, str) and trl.strip().isdigit():
            trl = int(trl)
        if trl is not None and (isinstance(trl, bool) or not isinstance(trl, int)):
            raise ValueError("profile field 'trl' must be a whole number from 1 to 9")
        if trl is not None and not 1 <= trl <= 9:
            raise ValueError("profile field 'trl' must be a whole number from 1 to 9")
        stage = _text("stage")
        if stage is not None:
            stage = _stage(stage)
        country = _text("country")
        code = None
        if country is not None:
            code = country_code(country)
            if code is None:
                raise ValueError(
                    f"profile field 'country': unknown country {country[:40]!r} "
                    "(use a name or a two-letter code such as DE)"
                )
        return cls(
            name=_text("name") or "",
            description=_text("description") or "",
            sectors=_list("sectors"),
            therapeutic_areas=_list("therapeutic_areas"),
            technologies=_list("technologies"),
            stage=stage,
            trl=trl,
            country=code,
            org_type=normalise_org_type(_text("org_type")),
            funding_interest=_list("funding_interest"),
        )


def unknown_fields(data: dict[str, Any]) -> list[str]:
    """Fields of a profile object that matching does not read (e.g. typos)."""
    return [key for key in data if key not in PROFILE_FIELDS]


def _stage(value: str) -> str:
    key = value.strip().lower()
    for code, (label, _) in STAGES.items():
        if key in (code, label.lower(), label.split(" (")[0].lower()):
            return code
    raise ValueError(f"profile field 'stage' must be one of {', '.join(STAGES)} (got {value!r})")


def normalise_org_type(value: str | None) -> str | None:
    """One of :data:`ORG_TYPES`' keys for free text such as "SME" or "Start-up"."""
    if not value:
        return None
    key = value.strip().lower()
    for code, label in ORG_TYPES.items():
        if key in (code, label.lower()):
            return code
    aliases = {
        "startup": "start-up",
        "small": "sme",
        "company": "sme",
        "research organisation": "research",
        "research organization": "research",
        "rto": "research",
        "academia": "university",
        "care provider": "hospital",
        "clinic": "hospital",
    }
    return aliases.get(key, "other")


def admitted(org_type: str | None, allowed: list[str]) -> bool | None:
    """Whether an opportunity open to ``allowed`` org types admits this one (None: unknown)."""
    if not allowed or org_type is None:
        return None
    wanted = _ADMITTED_BY.get(org_type, ())
    for label in allowed:
        low = label.strip().lower()
        if any(w == low or w in low.split() or low.startswith(w) for w in wanted):
            return True
    return False


__all__ = [
    "ALERT_CATEGORIES",
    "CATEGORIES_FOR_INTEREST",
    "CATEGORY_OF_KIND",
    "FREQUENCIES",
    "LOOKING_FOR",
    "ORG_TYPES",
    "PROFILE_FIELDS",
    "SIZES",
    "STAGES",
    "Profile",
    "admitted",
    "normalise_org_type",
    "unknown_fields",
]
