"""A throwaway PostgreSQL cluster on 127.0.0.1 for the suite's PostgreSQL run.

``CLUSTERBOT_TEST_DATABASE=postgresql`` makes the suite run every test against PostgreSQL:
the session starts one cluster (``initdb`` into a temporary folder, trust authentication,
listening on loopback only, a free port), and every test gets a database of its own, cloned
from a template (the demo store's, or an empty one) so a test costs one ``CREATE DATABASE``.

PostgreSQL refuses to run as root; when the suite runs as root (as CI does), the server
runs as the ``postgres`` system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ENV = "CLUSTERBOT_TEST_DATABASE"
SERVER_USER = "postgres"


def wanted() -> bool:
    """Whether this run of the suite is the PostgreSQL one."""
    return os.environ.get(ENV, "sqlite").strip().lower() in ("postgresql", "postgres", "pg")


def find_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, or in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        raise RuntimeError(
            f"{name} not found: install PostgreSQL (Debian: apt-get install postgresql) "
            f"or run the suite without {ENV}"
        )
    return candidates[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A running server; databases are created and dropped through ``psql``.

    A test's own data directories (under its ``tmp_path``) share the test's database, named
    in ``CLUSTERBOT_DATABASE_URL``. Stores built once for a module or the session live
    elsewhere and get a database each, kept until the server stops: ``database_for``.
    """

    root: Path
    port: int
    run_as: str | None
    _counter: int = field(default=0)
    _stores: dict[Path, str] = field(default_factory=dict)
    _dropper: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="pg-drop")
    )
    # The next test's database is made while the current test runs (one spare per template).
    _maker: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="pg-spare")
    )
    _spares: dict[str | None, Future[str]] = field(default_factory=dict)
    _names: threading.Lock = field(default_factory=threading.Lock)
    #: The running test's folder; data directories under it use the test's database.
    test_dir: Path | None = None

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database (asyncpg driver)."""
        return f"postgresql+asyncpg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (outside a transaction, as CREATE DATABASE needs)."""
        subprocess.run(
            [
                find_bin("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SERVER_USER,
                "-d",
                database,
                "-c",
                statement,
            ],
            check=True,
            capture_output=True,
            text=True,
        )

    def create(self, template: str | None = None) -> str:
        """A new database (a clone of ``template`` when given); returns its name.

        The one made in the background since the last call for ``template`` is handed out,
        and the next is started: a test does not wait for its ``CREATE DATABASE``.
        """
        spare = self._spares.pop(template, None)
        name = spare.result() if spare is not None else self._make(template)
        self._spares[template] = self._maker.submit(self._make, template)
        return name

    def _make(self, template: str | None) -> str:
        with self._names:
            self._counter += 1
            name = f"t{os.getpid()}_{self._counter}"
        clause = f" TEMPLATE {template}" if template else ""
        self.sql(f"CREATE DATABASE {name}{clause}")
        return name

    def database_for(self, data_dir: Path) -> str | None:
        """The URL for a store outside the running test's folder (None: the test's own)."""
        data_dir = data_dir.resolve()
        if self.test_dir is not None and data_dir.is_relative_to(self.test_dir.resolve()):
            return None
        if data_dir not in self._stores:
            self._stores[data_dir] = self._make(None)
        return self.url(self._stores[data_dir])

    def drop(self, name: str) -> None:
        """Drop a database, closing what is still connected to it.

        The drop runs in the background (one at a time): the next test need not wait for it.
        """
        self._dropper.submit(self.sql, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _as_server_user(argv: list[str], run_as: str | None) -> list[str]:
    if run_as is None:
        return argv
    return [
        find_bin("runuser") if shutil.which("runuser") else "runuser",
        "-u",
        run_as,
        "--",
        *argv,
    ]


#: For a test about SQLite itself (its file, its pragmas): skipped on the PostgreSQL run.
sqlite_only = pytest.mark.skipif(wanted(), reason="about SQLite's own files")

#: The server of this run, once started (read by ``tests.factories.make_app``).
ACTIVE: Cluster | None = None


def start() -> Cluster:
    """Initialise and start a cluster in a fresh temporary folder."""
    run_as = SERVER_USER if os.geteuid() == 0 else None
    if run_as is not None:
        try:
            pwd.getpwnam(run_as)
        except KeyError as exc:
            raise RuntimeError(
                f"running as root needs the {run_as!r} system user to own the test server "
                "(Debian's postgresql package creates it)"
            ) from exc
    root = Path(tempfile.mkdtemp(prefix="clusterbot-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chown(sockets, entry.pw_uid, entry.pw_gid)
    subprocess.run(
        _as_server_user(
            [
                find_bin("initdb"),
                "-D",
                str(data),
                "-U",
                SERVER_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            run_as,
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=300 -c shared_buffers=64MB"
    )
    subprocess.run(
        _as_server_user(
            [
                find_bin("pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            run_as,
        ),
        check=True,
        capture_output=True,
    )
    cluster = Cluster(root=root, port=port, run_as=run_as)
    deadline = time.monotonic() + 30
    while True:
        try:
            cluster.sql("SELECT 1")
            global ACTIVE
            ACTIVE = cluster
            return cluster
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop(cluster: Cluster) -> None:
    """Stop the server at once and remove its files."""
    global ACTIVE
    ACTIVE = None
    cluster._maker.shutdown(wait=True, cancel_futures=True)
    cluster._dropper.shutdown(wait=True, cancel_futures=True)
    subprocess.run(
        _as_server_user(
            [find_bin("pg_ctl"), "-D", str(cluster.root / "data"), "-m", "immediate", "stop"],
            cluster.run_as,
        ),
        check=False,
        capture_output=True,
    )
    shutil.rmtree(cluster.root, ignore_errors=True)


__all__ = ["ACTIVE", "ENV", "Cluster", "find_bin", "sqlite_only", "start", "stop", "wanted"]
