"""Shared fixtures. The suite is offline by construction: any connection beyond loopback fails."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.engine import SessionFactory
from tests import pg
from tests.pg import Cluster

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


# The PostgreSQL run builds the demo store once in this database and clones it per test.
DEMO_DATABASE = "clusterbot_demo"


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
def pg_cluster() -> Iterator[Cluster | None]:
    """The PostgreSQL server of a ``CLUSTERBOT_TEST_DATABASE=postgresql`` run, else None."""
    if not pg.wanted():
        yield None
        return
    cluster = pg.start()
    try:
        yield cluster
    finally:
        pg.stop(cluster)


@pytest.fixture(autouse=True)
def _database(
    request: pytest.FixtureRequest,
    _no_env_leaks: None,
    pg_cluster: Cluster | None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """On the PostgreSQL run, a database of the test's own (the demo's clone when it uses it).

    The URL goes into the environment, so the app, the CLI and any subprocess a test starts
    all use it, exactly as an operator's ``CLUSTERBOT_DATABASE_URL`` would be used.
    """
    if pg_cluster is None:
        yield
        return
    template = None
    if "demo_dir" in request.fixturenames:
        template = request.getfixturevalue("demo_store_database")
    name = pg_cluster.create(template)
    monkeypatch.setenv("CLUSTERBOT_DATABASE_URL", pg_cluster.url(name))
    pg_cluster.test_dir = request.getfixturevalue("tmp_path")
    try:
        yield
    finally:
        pg_cluster.test_dir = None
        pg_cluster.drop(name)


@pytest.fixture
def db_url(_database: None, tmp_path: Path) -> str:
    """A database URL for a test that builds its own engine: the run's PostgreSQL database,
    or an SQLite file in the test's folder."""
    import os

    return os.environ.get("CLUSTERBOT_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tmp_path / 'db' / 'test.sqlite3'}"
    )


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on a freshly migrated database of the test's own."""
    from storage import create_engine, session_factory, upgrade

    engine = create_engine(db_url)
    await upgrade(engine)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def demo_store_database(demo_store: Path, pg_cluster: Cluster | None) -> str | None:
    """The PostgreSQL database the demo store was built in (a template), or None on SQLite."""
    return DEMO_DATABASE if pg_cluster is not None else None


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory, pg_cluster: Cluster | None) -> Path:
    """A data directory with the demo corpus ingested once per session (copy it to use it)."""
    import asyncio

    from tests.factories import DEMO_CORPUS, make_app

    data_dir = tmp_path_factory.mktemp("demo-store")
    overrides: dict[str, object] = {}
    if pg_cluster is not None:
        pg_cluster.sql(f"CREATE DATABASE {DEMO_DATABASE}")
        overrides["database_url"] = pg_cluster.url(DEMO_DATABASE)

    async def build() -> None:
        app = await make_app(data_dir, **overrides)
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
