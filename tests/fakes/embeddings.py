"""A deterministic, dependency-free embedder for tests that need a second model."""

from __future__ import annotations

import hashlib

import numpy as np

from knowledge.embeddings import TextEmbedder


class HashingEmbedder(TextEmbedder):
    """Bag-of-words vectors from hashed tokens: similar texts share dimensions."""

    def __init__(self, *, dimension: int = 64, version: str = "1") -> None:
        super().__init__()
        self._dimension = dimension
        self._version = version
        self.calls = 0

    @property
    def dimension(self) -> int:
        return self._dimension

    def _model_key(self) -> str:
        return f"test-hashing-{self._dimension}-v{self._version}"

    def _embed(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        out = np.full((len(texts), self._dimension), 1e-3, dtype=np.float32)
        for row, text in enumerate(texts):
            for token in text.lower().split():
                slot = int(hashlib.md5(token.encode()).hexdigest(), 16) % self._dimension
                out[row, slot] += 1.0
        return out
