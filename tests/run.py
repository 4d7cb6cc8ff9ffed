"""Run the whole suite on SQLite and on PostgreSQL, side by side: ``python -m tests.run``.

The two runs are separate pytest processes (each with its own temporary folder) started
together, so the PostgreSQL run costs little extra time on a machine with two cores. The
SQLite run prints as it goes; the PostgreSQL run's output follows when it ends.

Without PostgreSQL's server programs on the machine the PostgreSQL run is skipped with a
note, unless it is required (``CI`` set, or ``--require-postgresql``): then it is an error.
Arguments after ``--`` go to both pytest runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests import pg

ROOT = Path(__file__).resolve().parents[1]
# Tests that never open a database (the code's own checks, file parsers, pure functions) run
# once, most on the SQLite run: running them on both databases would test nothing new. This
# keeps both runs, side by side on two cores, within the suite's 15 minutes.
DATABASE_INDEPENDENT = (
    "tests/test_lint.py",
    "tests/test_architecture.py",
    "tests/test_offline.py",
    "tests/bot/test_event_draft.py",
    "tests/bot/test_schedule.py",
    "tests/knowledge/test_dates.py",
    "tests/knowledge/test_links.py",
    "tests/knowledge/test_match.py",
    "tests/knowledge/test_vectors.py",
    # Ranking quality over a two-minute ingest of ../shared: the ranking is computed in
    # memory; the matcher's database reads run on PostgreSQL in test_match_matcher.py and
    # the alert tests.
    "tests/knowledge/test_match_shared.py",
    # Adapter input and log records: 15,000 fuzzed updates (two minutes) and a logged session
    # test what the adapters and the log filter do with input, whatever the database; the
    # database side of concurrent messages runs on PostgreSQL in tests/storage/test_people.py.
    "tests/reliability/test_fuzz_adapters.py",
    "tests/reliability/test_log_hygiene.py",
    *(
        f"tests/ingest/test_{name}.py"
        for name in [
            "cascade",
            "changelog",
            "cordis",
            "describe",
            "detect",
            "dispatch",
            "eligibility",
            "errors",
            "eu_portal",
            "feed",
            "fields",
            "htmltext",
            "ical",
            "jsondoc",
            "limits",
            "markdown",
            "pdf",
            "records",
            "sedia",
            "sedia_budget",
            "shared_data",
            "text",
            "webpage",
            "word",
        ]
    ),
)


# Of those, these run in the PostgreSQL process instead: the SQLite run also carries the
# slowest independent tests (the fuzz, the shared-data ranking), so these even out the two
# runs, which end together (measured: docs/benchmarks.md, "Test suite").
BALANCED_TO_POSTGRESQL = (
    "tests/test_lint.py",
    "tests/ingest/test_shared_data.py",
    "tests/reliability/test_log_hygiene.py",
)


def _postgresql_available() -> bool:
    try:
        pg.find_bin("initdb")
    except RuntimeError:
        return False
    return True


def _command(extra: list[str], basetemp: Path) -> list[str]:
    return [sys.executable, "-m", "pytest", f"--basetemp={basetemp}", *extra]


def main(argv: list[str] | None = None) -> int:
    """Run both suites; the exit status is the worse of the two."""
    parser = argparse.ArgumentParser(prog="python -m tests.run", description=__doc__)
    parser.add_argument(
        "--require-postgresql",
        action="store_true",
        default=bool(os.environ.get("CI")),
        help="fail when PostgreSQL is not installed (default when CI is set)",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip the PostgreSQL run")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="clusterbot-tests-"))
    pg_log = scratch / "postgresql.log"
    pg_process: subprocess.Popen[bytes] | None = None
    if not args.sqlite_only:
        if _postgresql_available():
            env = dict(os.environ, **{pg.ENV: "postgresql"})
            skip = [
                f"--ignore={path}"
                for path in DATABASE_INDEPENDENT
                if path not in BALANCED_TO_POSTGRESQL
            ]
            with pg_log.open("wb") as log:
                pg_process = subprocess.Popen(
                    _command([*skip, *args.pytest_args], scratch / "postgresql"),
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        elif args.require_postgresql:
            print(
                "PostgreSQL is required for this run but initdb was not found "
                "(Debian: apt-get install postgresql).",
                file=sys.stderr,
            )
            return 2
        else:
            print("PostgreSQL is not installed here: only the SQLite run.", file=sys.stderr)

    env = {k: v for k, v in os.environ.items() if k != pg.ENV}
    moved = [] if pg_process is None else [f"--ignore={p}" for p in BALANCED_TO_POSTGRESQL]
    print("== SQLite run", flush=True)
    sqlite_status = subprocess.call(
        _command([*moved, *args.pytest_args], scratch / "sqlite"), cwd=ROOT, env=env
    )
    if pg_process is None:
        return sqlite_status
    pg_process.wait()
    print("\n== PostgreSQL run", flush=True)
    sys.stdout.write(pg_log.read_text(errors="replace"))
    status = pg_process.returncode
    print(f"\n== SQLite run: exit {sqlite_status}; PostgreSQL run: exit {status}", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return sqlite_status or status


if __name__ == "__main__":
    sys.exit(main())
