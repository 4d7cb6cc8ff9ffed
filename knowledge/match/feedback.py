"""Feedback on earlier matches nudges the scores of similar opportunities, with a reason.

An organisation marks alerts "relevant", "not_for_us" or "already_knew". A call whose own
text is close to one marked relevant gains up to :data:`RAISE`; close to one marked not for
us, it loses up to :data:`LOWER` (a call marked not for us itself loses the full amount).
"Already knew" says the match was right but not news, so it counts as half a "relevant".
Closeness is the cosine of the calls' mean topic vectors, which for calls on different
subjects of the same programme stays under :data:`NEAR` (measured on ../shared topics):
only near-duplicates and calls on the same subject move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

FEEDBACK_VALUES = ("relevant", "not_for_us", "already_knew")
RAISE = 0.10
LOWER = 0.15
NEAR = 0.75
SAME = 0.95
_WEIGHT = {"relevant": 1.0, "already_knew": 0.5, "not_for_us": -1.0}


@dataclass(frozen=True)
class Judged:
    """An opportunity someone gave feedback on: its vector and how it is named."""

    vector: Matrix
    label: str  # e.g. "Development of ... (HORIZON-HLTH-2027-01-DISEASE-08)"


def _closeness(cosine: Matrix) -> Matrix:
    return np.asarray(np.clip((cosine - NEAR) / (SAME - NEAR), 0.0, 1.0), dtype=np.float32)


def adjust(
    candidates: Matrix,
    feedback: Mapping[int, str],
    judged: Mapping[int, Judged],
) -> tuple[Matrix, list[tuple[str, ...]]]:
    """Score changes for each candidate (mean topic vectors, unit rows) and their reasons.

    Args:
        candidates: One unit vector per candidate (zero rows are never moved).
        feedback: Opportunity id -> one of :data:`FEEDBACK_VALUES` (others are ignored).
        judged: The vectors and names of the opportunities the feedback is about.

    Returns:
        The change per candidate, in [-LOWER, RAISE], and the reasons per candidate.
    """
    n = candidates.shape[0]
    change = np.zeros(n, dtype=np.float32)
    notes: list[list[tuple[float, str]]] = [[] for _ in range(n)]
    for opp_id, value in feedback.items():
        weight = _WEIGHT.get(value)
        item = judged.get(opp_id)
        if weight is None or item is None or not np.any(item.vector):
            continue
        close = _closeness(candidates @ item.vector)
        step = close * (RAISE if weight > 0 else LOWER) * abs(weight)
        change += np.sign(weight) * step
        verb = "marked not for us" if weight < 0 else "marked relevant"
        if value == "already_knew":
            verb = "already knew"
        for row in np.nonzero(step >= 0.02)[0]:
            notes[row].append((float(step[row]), f"similar to {item.label}, which you {verb}"))
    change = np.clip(change, -LOWER, RAISE)
    reasons = [tuple(text for _, text in sorted(n_, reverse=True)[:2]) for n_ in notes]
    return change.astype(np.float32), reasons


def judged_of(
    feedback: Sequence[Mapping[int, str] | None],
) -> set[int]:
    """Every opportunity id any of the feedback mappings mentions."""
    return {opp_id for f in feedback if f for opp_id in f}


__all__ = ["FEEDBACK_VALUES", "LOWER", "NEAR", "RAISE", "Judged", "adjust", "judged_of"]
