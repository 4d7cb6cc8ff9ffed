"""The embedded vector store: processes opening one fresh folder together take turns."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from knowledge.vectors import persistent_client
from storage.locks import file_held

ROOT = Path(__file__).resolve().parents[2]

# Each child imports, says it is ready, and opens once told to go, so the openings overlap.
OPEN_ON_GO = """
import sys, time
from pathlib import Path
from knowledge.vectors import persistent_client
folder, ready, go = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.01)
persistent_client(folder).heartbeat()
"""


async def test_opening_waits_while_another_process_holds_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    with file_held(tmp_path / "vectors.open.lock"):
        opening = asyncio.create_task(asyncio.to_thread(persistent_client, folder))
        await asyncio.sleep(0.5)
        assert not opening.done()
    client = await asyncio.wait_for(opening, 60)
    assert client.list_collections() == []


def test_processes_opening_a_fresh_folder_together_all_succeed(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ANONYMIZED_TELEMETRY": "False"}
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{n}" for n in range(3)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_ON_GO, str(tmp_path / "vectors"), str(ready), str(go)],
            env=env,
            stderr=subprocess.PIPE,
        )
        for ready in readies
    ]
    deadline = time.monotonic() + 120
    while not all(ready.exists() for ready in readies) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()
    errors = [child.communicate(timeout=120)[1].decode()[-500:] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], errors
