"""The company profile's fields: how each is asked, parsed, saved and shown.

Onboarding (``/start``) asks them in order; ``/profile`` edits one at a time. Both use this
module, so a field is validated the same way wherever it is entered.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import UserError
from bot.messages import Button
from knowledge.countries import COUNTRIES, country_code
from knowledge.profile import LOOKING_FOR, ORG_TYPES, SIZES, STAGES, Profile, normalise_org_type
from storage.models import Organisation, utcnow

MAX_FIELD_CHARS = 300
MAX_ITEMS = 12


@dataclass(frozen=True)
class Field:
    """One profile question."""

    name: str
    label: str
    prompt: str
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) offered as buttons
    multi: bool = False  # choices toggle, then "Done"


FIELDS: tuple[Field, ...] = (
    Field("organisation", "Organisation", "What is your organisation called?"),
    Field(
        "country",
        "Country",
        "In which country is it based? A name or a two-letter code (e.g. Germany or DE).",
    ),
    Field("org_type", "Type", "What kind of organisation is it?", tuple(ORG_TYPES.items())),
    Field("size", "Size", "How many people work there?", tuple((s, s) for s in SIZES)),
    Field(
        "sectors",
        "Sectors",
        "Which sectors are you in? Separate them with commas, e.g. biotech, medtech, "
        "diagnostics, digital health.",
    ),
    Field(
        "therapeutic_areas",
        "Therapeutic areas",
        "Which therapeutic areas do you work on? E.g. oncology, neurology, rare diseases.",
    ),
    Field(
        "technologies",
        "Technologies",
        "Which technologies? E.g. AI imaging, biomarkers, mRNA, microfluidics.",
    ),
    Field(
        "stage",
        "Stage",
        "How far is your main product? Pick one, or type a TRL from 1 to 9.",
        tuple((k, label) for k, (label, _) in STAGES.items()),
    ),
    Field(
        "looking_for",
        "Looking for",
        "What are you looking for? Tap all that apply, then Done.",
        tuple(LOOKING_FOR.items()),
        multi=True,
    ),
)
BY_NAME = {f.name: f for f in FIELDS}


def _items(text: str) -> list[str]:
    items = [part.strip() for part in text.replace(";", ",").replace("\n", ",").split(",")]
    items = [i for i in items if i]
    if len(items) > MAX_ITEMS:
        raise UserError(f"That is {len(items)} items; please name at most {MAX_ITEMS}.")
    for item in items:
        if len(item) > 80:
            raise UserError(f"“{item[:40]}…” is too long for one item; keep each under 80.")
    return items


def _choice(field: Field, text: str) -> str:
    key = text.strip().lower()
    for value, label in field.choices:
        if key in (value.lower(), label.lower()):
            return value
    options = ", ".join(label for _, label in field.choices)
    raise UserError(f"“{text.strip()[:40]}” is not one of: {options}.")


def apply(org: Organisation, name: str, text: str) -> None:
    """Parse a typed or tapped answer into the organisation's profile.

    Raises:
        UserError: naming what was wrong; nothing is changed then.
    """
    field = BY_NAME[name]
    text = text.strip()
    if not text:
        raise UserError("That was empty; type an answer, or tap Skip.")
    if len(text) > MAX_FIELD_CHARS:
        raise UserError(f"Please keep it under {MAX_FIELD_CHARS} characters.")
    if name == "organisation":
        org.name = text
    elif name == "country":
        code = country_code(text)
        if code is None:
            raise UserError(
                f"I don't know the country “{text[:40]}”. Type a name like Germany or a "
                "two-letter code like DE."
            )
        org.country = code
    elif name == "org_type":
        org.org_type = normalise_org_type(text)
    elif name == "size":
        org.size = _choice(field, text)
    elif name in ("sectors", "therapeutic_areas", "technologies"):
        setattr(org, name, _items(text))
    elif name == "stage":
        if text.isdigit():
            trl = int(text)
            if not 1 <= trl <= 9:
                raise UserError("A TRL is a whole number from 1 to 9.")
            org.trl = trl
            org.stage = stage_of_trl(trl)
        else:
            org.stage = _choice(field, text)
            org.trl = STAGES[org.stage][1]
    elif name == "looking_for":
        org.looking_for = [_choice(field, item) for item in _items(text)]
    org.updated_at = utcnow()


def stage_of_trl(trl: int) -> str:
    """The stage a technology readiness level belongs to."""
    if trl <= 3:
        return "idea"
    if trl <= 6:
        return "prototype"
    return "clinical" if trl <= 8 else "market"


def toggle(org: Organisation, value: str) -> None:
    """Add or remove one "looking for" choice."""
    if value not in LOOKING_FOR:
        raise UserError("That choice is no longer offered.")
    current = list(org.looking_for or [])
    org.looking_for = [v for v in current if v != value] if value in current else [*current, value]


def shown(org: Organisation | None, name: str) -> str:
    """A field's value for people to read."""
    if org is None:
        return "—"
    value: object
    if name == "organisation":
        value = org.name
    elif name == "country":
        value = f"{COUNTRIES.get(org.country, org.country)}" if org.country else None
    elif name == "org_type":
        value = ORG_TYPES.get(org.org_type or "", org.org_type)
    elif name == "stage":
        label = STAGES[org.stage][0] if org.stage in STAGES else org.stage
        value = f"{label}, TRL {org.trl}" if org.trl and label else label
    elif name == "looking_for":
        value = ", ".join(LOOKING_FOR.get(v, v) for v in org.looking_for or [])
    elif name in ("sectors", "therapeutic_areas", "technologies"):
        value = ", ".join(getattr(org, name) or [])
    else:
        value = getattr(org, name)
    return str(value) if value else "—"


def choice_buttons(field: Field, org: Organisation | None, action: str) -> tuple[Button, ...]:
    """Buttons for a field's choices (with a tick on selected multi-choices)."""
    selected = set(org.looking_for or []) if org is not None and field.multi else set()
    buttons = []
    for value, label in field.choices:
        mark = "✅ " if value in selected else ""
        verb = "toggle" if field.multi else "set"
        buttons.append(Button(f"{mark}{label}", action, f"{verb}:{value}"))
    if field.multi:
        buttons.append(Button("Done", action, "done"))
    return tuple(buttons)


def profile_of(org: Organisation | None) -> Profile:
    """The organisation's profile as matching sees it."""
    if org is None:
        return Profile()
    return Profile(
        name=org.name,
        description=org.description or "",
        sectors=tuple(org.sectors or ()),
        therapeutic_areas=tuple(org.therapeutic_areas or ()),
        technologies=tuple(org.technologies or ()),
        stage=org.stage,
        trl=org.trl,
        country=org.country,
        org_type=org.org_type,
        funding_interest=tuple(org.looking_for or ()),
    )


def summary(org: Organisation | None) -> str:
    """The whole profile, one field per line."""
    return "\n".join(f"{f.label}: {shown(org, f.name)}" for f in FIELDS)


__all__ = [
    "BY_NAME",
    "FIELDS",
    "Field",
    "apply",
    "choice_buttons",
    "profile_of",
    "shown",
    "stage_of_trl",
    "summary",
    "toggle",
]
