"""Decide whether the retrieved passages really answer a question, from several signals.

A raw similarity threshold separates answerable from unanswerable questions poorly on this
data: look-alike questions ("veterinary medicine approval fees") sit as close to some
passage as real ones. So the decision weighs signals that fail in different ways:

- ``dense_top``: cosine similarity of the best dense hit;
- ``coverage``: the share of the question's meaningful words found in the top passages,
  each word weighted by its rarity in the corpus (a missing rare word counts most);
- ``unknown``: the rarity-weighted share of question words the corpus never contains;
- ``agree``: whether the best passage ranks high in both the dense and lexical lists;
- ``identifier``: whether the question names a topic identifier we hold.

They are combined by a logistic model whose weights were fitted on the labelled question set
(``bench/quality.py --fit`` prints them; see docs/benchmarks.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from knowledge.retrieve import Retrieval, idf
from knowledge.text import stem, words


@dataclass(frozen=True)
class AbstentionModel:
    """Weights of the logistic combination; ``bias`` shifts the whole decision."""

    dense_top: float = 9.0
    coverage: float = 5.0
    unknown: float = -4.0
    agree: float = 1.0
    identifier: float = 4.0
    bias: float = -7.2

    def confidence(self, signals: dict[str, float]) -> float:
        """A number in 0..1: how likely the passages answer the question."""
        z = self.bias + sum(getattr(self, name) * value for name, value in signals.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def signals(retrieval: Retrieval, *, top: int = 3) -> dict[str, float]:
    """The signals of a retrieval, each in 0..1."""
    passages = retrieval.passages[:top]
    found = {stem(w) for p in passages for w in words(f"{p.title} {p.section or ''} {p.text}")}
    total = max(retrieval.total_chunks, 1)
    weights = {t: idf(retrieval.term_df.get(t, 0), total) for t in retrieval.terms}
    weight_sum = sum(weights.values()) or 1.0
    covered = sum(w for t, w in weights.items() if stem(t) in found)
    unknown = sum(w for t, w in weights.items() if retrieval.term_df.get(t, 0) == 0)
    best = retrieval.passages[0] if retrieval.passages else None
    agree = bool(
        best
        and best.dense_rank is not None
        and best.lexical_rank is not None
        and best.dense_rank <= 10
        and best.lexical_rank <= 10
    )
    return {
        "dense_top": max(0.0, retrieval.dense_top),
        "coverage": covered / weight_sum if retrieval.terms else 0.0,
        "unknown": unknown / weight_sum if retrieval.terms else 1.0,
        "agree": 1.0 if agree else 0.0,
        "identifier": 1.0 if retrieval.identifier_hit else 0.0,
    }


__all__ = ["AbstentionModel", "signals"]
