"""Text embedders behind langchain's ``Embeddings``: offline MiniLM int8, ONNX, ST and APIs.

Modules::

    base      TextEmbedder, the errors below, normalisation, model-file hashing
    onnx      MiniLmInt8Embedder (the offline default), OnnxFolderEmbedder
    st        SentenceTransformersEmbedder (optional extra)
    remote    OpenAICompatibleEmbedder
    factory   build_embedder

Exceptions::

    EmbeddingError                 no vectors could be computed
     ├── EmbeddingConfigError      the settings are incomplete or contradictory
     ├── EmbeddingModelError       a model file is missing, altered or cannot be loaded
     └── EmbeddingServiceError     an embeddings API failed (HTTP error, timeout, bad payload)
"""

from knowledge.embeddings.base import (
    EmbeddingConfigError,
    EmbeddingError,
    EmbeddingModelError,
    EmbeddingServiceError,
    TextEmbedder,
    file_sha256,
)
from knowledge.embeddings.factory import build_embedder
from knowledge.embeddings.onnx import (
    MINILM_MODEL_SHA256,
    MINILM_TOKENIZER_SHA256,
    MiniLmInt8Embedder,
    OnnxFolderEmbedder,
)
from knowledge.embeddings.remote import OpenAICompatibleEmbedder
from knowledge.embeddings.st import SentenceTransformersEmbedder

__all__ = [
    "MINILM_MODEL_SHA256",
    "MINILM_TOKENIZER_SHA256",
    "EmbeddingConfigError",
    "EmbeddingError",
    "EmbeddingModelError",
    "EmbeddingServiceError",
    "MiniLmInt8Embedder",
    "OnnxFolderEmbedder",
    "OpenAICompatibleEmbedder",
    "SentenceTransformersEmbedder",
    "TextEmbedder",
    "build_embedder",
    "file_sha256",
]
