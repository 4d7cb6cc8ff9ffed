"""A real ``chroma run`` server on 127.0.0.1, on a free port and a temporary data folder.

Not a fake in behaviour, only in lifetime: the tests start the very server operators run
(chromadb's Rust server, through ``.venv/bin/chroma``), wait for its heartbeat, and stop it::

    with ChromaServer(tmp_path / "chroma") as server:
        ...  # CLUSTERBOT_VECTORS__MODE=server, __HOST=server.host, __PORT=server.port

When the binary is missing the tests that need it skip, saying so.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from bot.vector_proxy import VectorProxy

#: ``chroma`` beside the running interpreter (the project's venv), else on PATH.
CHROMA = Path(sys.executable).with_name("chroma")
START_TIMEOUT_S = 30.0


def chroma_binary() -> Path | None:
    """The ``chroma`` command, or None when it is not installed."""
    if CHROMA.is_file():
        return CHROMA
    found = shutil.which("chroma")
    return Path(found) if found else None


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ChromaServer:
    """``chroma run`` on 127.0.0.1 for the length of a ``with`` block.

    Raises:
        FileNotFoundError: the ``chroma`` command is not installed.
        RuntimeError: the server did not answer its heartbeat in time (its output attached).
    """

    host = "127.0.0.1"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = path.with_name(path.name + ".log")

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Start the server and wait until its heartbeat answers."""
        binary = chroma_binary()
        if binary is None:
            raise FileNotFoundError("the 'chroma' command is not installed")
        self.path.mkdir(parents=True, exist_ok=True)
        command = [str(binary), "run", "--path", str(self.path)]
        command += ["--host", self.host, "--port", str(self.port)]
        # The command is a Python script; tracing settings of the test run would slow it down.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONTRACEMALLOC")}
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chroma run did not start:\n{self._log.read_text(errors='replace')}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> ChromaServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class ProxyThread:
    """Our token proxy (:class:`bot.vector_proxy.VectorProxy`) on its own thread and loop.

    In production the proxy is another process; here a thread keeps it off the test's event
    loop, where a synchronous Chroma call to it would wait on itself forever.
    """

    def __init__(self, *, upstream: str, token: str) -> None:
        self._upstream = upstream
        self._token = token
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.proxy: VectorProxy | None = None

    @property
    def refused(self) -> int:
        """How many requests the proxy refused."""
        return self.proxy.refused if self.proxy is not None else 0

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        assert self.proxy is not None, "enter the context first"
        return self.proxy.port or 0

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def __enter__(self) -> ProxyThread:
        self._thread.start()
        self.proxy = VectorProxy(
            host="127.0.0.1", port=0, upstream=self._upstream, token=self._token
        )
        self._call(self.proxy.start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.proxy is not None:
            self._call(self.proxy.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


__all__ = ["CHROMA", "ChromaServer", "ProxyThread", "chroma_binary", "free_port"]
