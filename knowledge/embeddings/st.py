"""A sentence-transformers model, behind the optional ``sentence-transformers`` extra."""

from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import Any

import numpy as np

from knowledge.embeddings.base import (
    DEFAULT_BATCH_SIZE,
    EmbeddingModelError,
    TextEmbedder,
    Vectors,
)

ST_EXTRA = "clusterbot[sentence-transformers]"


class SentenceTransformersEmbedder(TextEmbedder):
    """A sentence-transformers model (optional extra ``clusterbot[sentence-transformers]``).

    A model *name* makes sentence-transformers download it on first use; give a local folder
    to stay offline.

    Args:
        model: Local folder or model name.
        batch_size: Texts per forward pass.
        query_prefix: Prepended to queries.
        document_prefix: Prepended to documents.

    Raises:
        EmbeddingModelError: If sentence-transformers is not installed.
    """

    def __init__(
        self,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        super().__init__(query_prefix=query_prefix, document_prefix=document_prefix)
        if importlib.util.find_spec("sentence_transformers") is None:
            raise EmbeddingModelError(
                "the sentence-transformers backend needs the optional extra: "
                f"pip install '{ST_EXTRA}'"
            )
        self.model = model
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._st: Any = None

    def _load(self) -> Any:
        if self._st is None:
            with self._lock:
                if self._st is None:
                    module = importlib.import_module("sentence_transformers")
                    self._st = module.SentenceTransformer(self.model)
        return self._st

    @property
    def dimension(self) -> int:
        """Length of each vector (loads the model)."""
        return int(self._load().get_sentence_embedding_dimension())

    def _model_key(self) -> str:
        return f"sentence-transformers:{self.model}"

    def _embed(self, texts: list[str]) -> Vectors:
        vectors = self._load().encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32)
