"""Shared fixtures. The suite is offline by construction: any connection beyond loopback fails."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class NetworkBlocked(RuntimeError):
    """Raised when code under test tries to reach beyond 127.0.0.1."""


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family == socket.AF_UNIX:
        return
    host = address[0] if isinstance(address, tuple) else address
    if not _is_loopback(host):
        raise NetworkBlocked(f"test tried to reach {address!r}: the suite is offline")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback(host):
        raise NetworkBlocked(f"test tried to resolve {host!r}: the suite is offline")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    """Install the network guard for the whole session, before any client is built."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture
def shared_dir() -> Path:
    """The read-only shared data beside the checkout."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(autouse=True)
def _no_env_leaks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Keep the developer's environment and .env out of the tests."""
    import os

    for key in list(os.environ):
        if key.startswith("CLUSTERBOT_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.chdir(tmp_path)
    return


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the demo corpus ingested once per session (copy it to use it)."""
    import asyncio

    from tests.factories import DEMO_CORPUS, make_app

    data_dir = tmp_path_factory.mktemp("demo-store")

    async def build() -> None:
        app = await make_app(data_dir)
        try:
            summary = await app.ingester.ingest([str(DEMO_CORPUS)])
            assert summary.failed == 0, summary.errors
        finally:
            await app.close()

    asyncio.run(build())
    return data_dir


@pytest.fixture
def demo_dir(demo_store: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store for one test."""
    import shutil

    target = tmp_path / "store"
    shutil.copytree(demo_store, target)
    return target
