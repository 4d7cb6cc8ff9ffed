"""An OpenAI-compatible embeddings API, called in batches with retries."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import httpx
import numpy as np
from pydantic import BaseModel, SecretStr, ValidationError

from knowledge.embeddings.base import (
    DEFAULT_BATCH_SIZE,
    EmbeddingConfigError,
    EmbeddingServiceError,
    TextEmbedder,
    Vectors,
)

logger = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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
