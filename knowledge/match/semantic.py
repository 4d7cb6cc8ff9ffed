"""Cosine similarity of profile vectors and opportunities' chunk vectors, in blocks.

An opportunity is represented by the vectors Chroma already holds for its own chunks
(header, description, scope; boilerplate left out). Its similarity to a profile is, by
``mode``: ``max`` the best chunk, ``top2`` the mean of the two best, ``mean`` the mean
vector of its chunks, ``head`` the header chunk alone (title, programme, keywords).
bench/match.py compares them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
_BLOCK = 1024  # profiles per matrix product: bounds memory at 10,000 x 1,000


def _unit(rows: Matrix) -> Matrix:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)


@dataclass(frozen=True)
class OpportunityVectors:
    """The chunk vectors of each candidate, stacked, with per-candidate offsets."""

    chunks: Matrix  # all chunk vectors, candidate after candidate
    offsets: npt.NDArray[np.int64]  # candidate i owns rows offsets[i]:offsets[i+1]
    present: npt.NDArray[np.bool_]  # whether a candidate has any vector
    mean: Matrix  # one unit vector per candidate (zero when absent)
    head: Matrix  # the first chunk's vector per candidate (zero when absent)
    kept: tuple[tuple[int, ...], ...]  # per candidate: which of its vector ids were found

    @classmethod
    def build(
        cls, vector_ids: Sequence[Sequence[str]], store: Mapping[str, Matrix], dimension: int
    ) -> OpportunityVectors:
        """Stack the stored vectors of each candidate's chunks; missing ids are skipped."""
        rows: list[Matrix] = []
        offsets = [0]
        present = []
        kept: list[tuple[int, ...]] = []
        for ids in vector_ids:
            positions = tuple(n for n, i in enumerate(ids) if i in store)
            kept.append(positions)
            found = [store[ids[n]] for n in positions]
            if not found:
                found = [np.zeros(dimension, dtype=np.float32)]
            rows.extend(found)
            present.append(any(np.any(v) for v in found))
            offsets.append(offsets[-1] + len(found))
        chunks: Matrix = (
            np.vstack(rows).astype(np.float32)
            if rows
            else np.zeros((0, dimension), dtype=np.float32)
        )
        off = np.asarray(offsets, dtype=np.int64)
        sums = np.add.reduceat(chunks, off[:-1], axis=0) if len(off) > 1 else chunks[:0]
        return cls(
            chunks=chunks.astype(np.float32),
            offsets=off,
            present=np.asarray(present, dtype=bool),
            mean=_unit(np.asarray(sums, dtype=np.float32)),
            head=chunks[off[:-1]] if len(off) > 1 else chunks[:0],
            kept=tuple(kept),
        )

    def __len__(self) -> int:
        return len(self.offsets) - 1


def similarity(profiles: Matrix, opps: OpportunityVectors, *, mode: str = "max") -> Matrix:
    """Cosine similarity, profiles x candidates (0 where a candidate has no vector)."""
    n_prof, n_opp = profiles.shape[0], len(opps)
    out = np.zeros((n_prof, n_opp), dtype=np.float32)
    if n_opp == 0 or n_prof == 0:
        return out
    for start in range(0, n_prof, _BLOCK):
        block = profiles[start : start + _BLOCK]
        if mode == "mean":
            out[start : start + _BLOCK] = block @ opps.mean.T
        elif mode == "head":
            out[start : start + _BLOCK] = block @ opps.head.T
        else:
            sims = block @ opps.chunks.T
            if mode == "max":
                out[start : start + _BLOCK] = np.maximum.reduceat(sims, opps.offsets[:-1], axis=1)
            elif mode == "top2":
                out[start : start + _BLOCK] = _top2(sims, opps.offsets)
            else:
                raise ValueError(f"unknown similarity mode {mode!r}")
    out[:, ~opps.present] = 0.0
    return out


def _top2(sims: Matrix, offsets: npt.NDArray[np.int64]) -> Matrix:
    result = np.empty((sims.shape[0], len(offsets) - 1), dtype=np.float32)
    for i in range(len(offsets) - 1):
        part = sims[:, offsets[i] : offsets[i + 1]]
        if part.shape[1] == 1:
            result[:, i] = part[:, 0]
        else:
            best = -np.partition(-part, 1, axis=1)[:, :2]
            result[:, i] = best.mean(axis=1)
    return result


def best_chunk(profile: Matrix, opps: OpportunityVectors, index: int) -> tuple[int, float] | None:
    """Which of a candidate's vector ids is closest to a profile vector, and how close."""
    if not opps.kept[index]:
        return None
    part = opps.chunks[opps.offsets[index] : opps.offsets[index + 1]] @ profile
    pos = int(np.argmax(part))
    return opps.kept[index][pos], float(part[pos])


def pairwise(a: Matrix, b: Matrix) -> Matrix:
    """Cosine similarity of unit rows."""
    return (a @ b.T).astype(np.float32)


__all__ = ["OpportunityVectors", "best_chunk", "pairwise", "similarity"]
