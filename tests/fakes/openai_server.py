"""A fake OpenAI-compatible HTTP server on 127.0.0.1 that records every request.

It serves ``/v1/chat/completions`` (non-streaming, answers from a queue), ``/v1/embeddings``
(deterministic vectors from a hash of each input) and ``/v1/models``. It runs in a background
thread, so sync and async tests use it alike::

    with FakeOpenAIServer() as server:
        server.enqueue_chat("Yes [1].")
        server.respond_next(500, times=2)  # the next two requests fail
        server.stall_next(seconds=2.0)  # then one answers late
        ...  # point a client at server.base_url
        assert server.requests[0].body["model"] == "fake-model"
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

DEFAULT_CHAT_TEXT = "This is the fake model's answer [1]."

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it (header names lower-cased)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    raw: bytes


@dataclass
class _Override:
    status: int | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    stall_s: float = 0.0


def fake_embedding(text: str, dimension: int) -> list[float]:
    """The vector the fake serves for ``text``: deterministic, not normalised."""
    out: list[float] = []
    counter = 0
    while len(out) < dimension:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        out.extend((b - 127.5) / 127.5 for b in digest)
        counter += 1
    return out[:dimension]


class FakeOpenAIServer:
    """An OpenAI-compatible server for tests; use it as a context manager.

    Args:
        embedding_dimension: Length of the vectors ``/v1/embeddings`` returns (a request's
            ``dimensions`` field overrides it).
        default_chat_text: What the chat endpoint answers when the queue is empty.
        model: The model name ``/v1/models`` lists.
    """

    def __init__(
        self,
        *,
        embedding_dimension: int = 16,
        default_chat_text: str = DEFAULT_CHAT_TEXT,
        model: str = "fake-model",
    ) -> None:
        self.embedding_dimension = embedding_dimension
        self.default_chat_text = default_chat_text
        self.model = model
        #: Serve embedding items in reverse order (clients must sort by ``index``).
        self.reverse_embedding_order = False
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._chat_queue: deque[str] = deque()
        self._overrides: deque[_Override] = deque()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled requests are released at once."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ---------------------------------------------------------------------------

    def enqueue_chat(self, *texts: str) -> None:
        """Queue the texts the next chat completions answer, in order."""
        with self._lock:
            self._chat_queue.extend(texts)

    def respond_next(
        self,
        status: int,
        *,
        times: int = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests (any path) with ``status`` and ``body``.

        Without a body, an OpenAI-style error object is sent. ``status=200`` with a body
        serves a malformed payload.
        """
        with self._lock:
            for _ in range(times):
                self._overrides.append(
                    _Override(status=status, body=body, headers=dict(headers or {}))
                )

    def stall_next(self, *, seconds: float = 10.0, times: int = 1) -> None:
        """Hold the next ``times`` requests for ``seconds`` before answering normally."""
        with self._lock:
            for _ in range(times):
                self._overrides.append(_Override(stall_s=seconds))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The requests whose path (without query) equals ``path``."""
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    # -- serving (called from handler threads) -----------------------------------------------

    def _record(self, request: RecordedRequest) -> _Override | None:
        with self._lock:
            self._requests.append(request)
            self._counter += 1
            return self._overrides.popleft() if self._overrides else None

    def _next_chat_text(self) -> str:
        with self._lock:
            return self._chat_queue.popleft() if self._chat_queue else self.default_chat_text

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        path = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and path == "/v1/models":
            return 200, {
                "object": "list",
                "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "fake"}],
            }
        if method == "POST" and path == "/v1/chat/completions":
            return self._chat(body)
        if method == "POST" and path == "/v1/embeddings":
            return self._embeddings(body)
        return 404, _error_body(404, f"no route for {method} {path}")

    def _chat(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or "messages" not in body:
            return 400, _error_body(400, "messages is required")
        if body.get("stream"):
            return 400, _error_body(400, "the fake server does not stream")
        text = self._next_chat_text()
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion_tokens = len(text.split())
        return 200, {
            "id": f"chatcmpl-fake-{self._counter}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": None,
        }

    def _embeddings(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or "input" not in body:
            return 400, _error_body(400, "input is required")
        inputs = body["input"]
        if isinstance(inputs, str):
            inputs = [inputs]
        dimension = int(body.get("dimensions") or self.embedding_dimension)
        data = [
            {"object": "embedding", "index": i, "embedding": fake_embedding(str(t), dimension)}
            for i, t in enumerate(inputs)
        ]
        if self.reverse_embedding_order:
            data.reverse()
        tokens = sum(len(str(t).split()) for t in inputs)
        return 200, {
            "object": "list",
            "data": data,
            "model": body.get("model", self.model),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer
    server_version = "FakeOpenAI/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read the recorded requests instead."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        override = self.fake._record(RecordedRequest(method, self.path, headers, body, raw))
        extra_headers: Mapping[str, str] = {}
        if override is not None and override.stall_s:
            self.fake._wait(override.stall_s)
            override = None
        if override is not None and override.status is not None:
            status = override.status
            payload = override.body
            if payload is None:
                payload = _error_body(status, f"fake failure with HTTP {status}")
            extra_headers = override.headers
        else:
            status, payload = self.fake._route(method, self.path, body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass


__all__ = ["DEFAULT_CHAT_TEXT", "FakeOpenAIServer", "RecordedRequest", "fake_embedding"]
