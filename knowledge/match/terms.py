"""Words to comparable tokens, profile terms to the phrases they stand for, phrase lookup.

Text is reduced to a string of normalised tokens between single spaces (" point of care
diagnostic "), so finding a phrase is a substring count on a token boundary: cheap enough to
look for hundreds of phrases in hundreds of calls, and exact about word order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from knowledge.match.vocabulary import CONCEPTS, Concept
from knowledge.text import words

_KEEP_S = ("ss", "us", "is")  # "virus", "analysis", "sepsis" are not plurals


def token(word: str) -> str:
    """A lower-case word without its plural ending (therapies, therapy -> therapy)."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "uses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(_KEEP_S):
        return word[:-1]
    return word


def normalise(text: str) -> str:
    """Text as normalised tokens, with a space before, between and after them."""
    return " " + " ".join(token(w) for w in words(text)) + " "


@cache
def phrase_key(text: str) -> str:
    """A phrase as looked for in normalised text (empty for a phrase of no words)."""
    norm = normalise(text)
    return norm if norm.strip() else ""


def _index() -> dict[str, list[Concept]]:
    by_phrase: dict[str, list[Concept]] = {}
    for concept in CONCEPTS:
        for phrase in concept.phrases:
            by_phrase.setdefault(phrase_key(phrase), []).append(concept)
    return by_phrase


_BY_PHRASE = _index()
#: Phrases naming a therapeutic area: a call with none of them is about no disease in
#: particular, and a profile's therapeutic areas neither fit nor miss it.
AREA_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(
        phrase_key(p) for c in CONCEPTS if c.kind == "therapeutic area" for p in c.phrases
    )
)


@dataclass(frozen=True)
class TermPlan:
    """How to look for one profile term in an opportunity.

    A hit on any of ``exact`` counts fully: the term as written and, for a term that names a
    concept ("infectious diseases"), every phrase of the concept. A term that is one phrase
    of a concept ("dengue") counts fully only as written; the rest of its concept
    (``broad``: "virus", "pathogen") counts :data:`BROAD` of a hit. A term naming no concept
    but containing some ("AI-based imaging") counts :data:`PARTS` of a hit when each of its
    ``parts`` is found (:data:`ONE_PART` when it contains a single one).
    """

    label: str
    exact: tuple[str, ...]
    broad: tuple[str, ...] = ()
    parts: tuple[tuple[str, ...], ...] = ()

    @property
    def key(self) -> str:
        """What identifies the term across profiles."""
        return self.exact[0] if self.exact else ""


BROAD = 0.6
PARTS = 0.8
ONE_PART = 0.5


def _keys(concepts: list[Concept]) -> tuple[str, ...]:
    keys: list[str] = []
    for concept in concepts:
        for phrase in concept.phrases:
            key = phrase_key(phrase)
            if key and key not in keys:
                keys.append(key)
    return tuple(keys)


_NAMES = {phrase_key(c.name) for c in CONCEPTS}


@cache
def plan(term: str) -> TermPlan:
    """The phrases that count as finding a profile term (see :class:`TermPlan`)."""
    label = " ".join(term.split())
    key = phrase_key(term)
    if not key:
        return TermPlan(label, ())
    concepts = _BY_PHRASE.get(key, [])
    if concepts:
        others = tuple(k for k in _keys(concepts) if k != key)
        if key in _NAMES:
            return TermPlan(label, (key, *others))
        return TermPlan(label, (key,), broad=others)
    # Concepts inside the term, longest phrases first, without overlaps.
    rest = key
    parts: list[tuple[str, ...]] = []
    for phrase in sorted(_BY_PHRASE, key=len, reverse=True):
        if phrase in rest:
            group = _keys(_BY_PHRASE[phrase])
            if group not in parts:
                parts.append(group)
            rest = rest.replace(phrase, " ")
    return TermPlan(label, (key,), parts=tuple(parts))


VOCABULARY_KEYS: frozenset[str] = frozenset(_BY_PHRASE)
_LONGEST = max(len(k.split()) for k in VOCABULARY_KEYS)


def vocabulary_counts(norm: str) -> dict[str, int]:
    """How often each vocabulary phrase occurs in normalised text, in one pass over it."""
    tokens = norm.split()
    found: dict[str, int] = {}
    for start in range(len(tokens)):
        for size in range(1, _LONGEST + 1):
            if start + size > len(tokens):
                break
            key = " " + " ".join(tokens[start : start + size]) + " "
            if key in VOCABULARY_KEYS:
                found[key] = found.get(key, 0) + 1
    return found


def count(haystack: str, key: str, counts: dict[str, int] | None = None) -> int:
    """How often a phrase key occurs in normalised text (``counts``: its vocabulary counts)."""
    if not key:
        return 0
    if counts is not None and key in VOCABULARY_KEYS:
        return counts.get(key, 0)
    return haystack.count(key)


__all__ = [
    "BROAD",
    "ONE_PART",
    "PARTS",
    "TermPlan",
    "count",
    "normalise",
    "phrase_key",
    "plan",
    "token",
]
