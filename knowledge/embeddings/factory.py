"""Build the embedder the ``embeddings`` settings describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import httpx

from bot.config import EmbeddingSettings
from knowledge.embeddings.base import EmbeddingConfigError, TextEmbedder
from knowledge.embeddings.onnx import MiniLmInt8Embedder, OnnxFolderEmbedder
from knowledge.embeddings.remote import OpenAICompatibleEmbedder
from knowledge.embeddings.st import SentenceTransformersEmbedder


def build_embedder(
    settings: EmbeddingSettings, *, http_client: httpx.Client | None = None
) -> TextEmbedder:
    """Build the embedder the settings describe; nothing is loaded or called yet.

    Args:
        settings: The ``embeddings`` section of the settings.
        http_client: Sync client for the ``openai`` backend (built when omitted).

    Returns:
        The embedder.

    Raises:
        EmbeddingConfigError: If a setting the backend needs is missing.
        EmbeddingModelError: If the onnx folder lacks its files or an extra is missing.
    """
    common: dict[str, Any] = {
        "batch_size": settings.batch_size,
        "query_prefix": settings.query_prefix,
        "document_prefix": settings.document_prefix,
    }
    backend = settings.backend
    if backend == "minilm-int8":
        return MiniLmInt8Embedder(**common)
    if backend == "openai":
        missing = [n for n in ("base_url", "model") if not getattr(settings, n)]
        if missing:
            raise EmbeddingConfigError(_missing("openai", missing))
        return OpenAICompatibleEmbedder(
            base_url=cast(str, settings.base_url),
            model=cast(str, settings.model),
            api_key=settings.api_key,
            client=http_client,
            **common,
        )
    if not settings.model:
        raise EmbeddingConfigError(_missing(backend, ["model"]))
    if backend == "onnx":
        return OnnxFolderEmbedder(folder=Path(settings.model), sha256=settings.sha256, **common)
    return SentenceTransformersEmbedder(model=settings.model, **common)


def _missing(backend: str, names: list[str]) -> str:
    envs = ", ".join(f"CLUSTERBOT_EMBEDDINGS__{n.upper()}" for n in names)
    what = "the model folder" if backend == "onnx" else " and ".join(names)
    return f"the {backend} embeddings backend needs {what}: set {envs}"
