"""Small text helpers shared by retrieval and answering: terms, identifiers, sentences."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_IDENTIFIER = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+){2,}\b")
_WRAPPED = re.compile(r"(?<=\S)\n(?=[a-z(])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(“\"])|\n+")

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "much",
        "many",
        "often",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "down",
        "during",
        "each",
        "either",
        "else",
        "few",
        "for",
        "from",
        "further",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "might",
        "more",
        "most",
        "must",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "please",
        "same",
        "shall",
        "she",
        "should",
        "so",
        "some",
        "such",
        "tell",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "us",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "know",
        "want",
        "wants",
        "need",
        "needs",
        "looking",
        "look",
        "find",
        "there's",
        "what's",
        "i'm",
        "we're",
        "let's",
        "give",
        "show",
        "list",
        "anything",
        "something",
        "someone",
        "someone's",
    ]
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [w.lower() for w in _WORD.findall(text)]


def content_terms(text: str) -> list[str]:
    """Distinct words that carry meaning (no stopwords, no single letters), in order."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word in STOPWORDS or len(word) < 2:
            continue
        seen.setdefault(word, None)
    return list(seen)


def identifiers(text: str) -> list[str]:
    """Dash-separated identifiers such as ``HORIZON-HLTH-2026-01-TOOL-03``, upper-cased."""
    return [
        m.group(0).upper()
        for m in _IDENTIFIER.finditer(text)
        if any(c.isdigit() for c in m.group(0))
    ]


def sentences(text: str) -> list[str]:
    """Split text into sentences and lines, dropping empty ones."""
    # A line break before a lower-case word only wraps a sentence; other breaks end one.
    unwrapped = _WRAPPED.sub(" ", text)
    return [s.strip() for s in _SENTENCE_END.split(unwrapped) if s and s.strip()]


def stem(word: str) -> str:
    """A crude stem for matching question words to passage words (fund/funds/funding)."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


__all__ = ["STOPWORDS", "content_terms", "identifiers", "sentences", "stem", "words"]
