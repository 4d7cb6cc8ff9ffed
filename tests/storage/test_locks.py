"""The cross-process locks: a second holder (another engine or another open file, as another
process would have) waits until the first lets go; other names never wait."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage import create_engine
from storage.locks import file_held, held, lock_key


async def test_a_second_holder_waits_for_the_first(db_url: str) -> None:
    engines = [create_engine(db_url) for _ in range(2)]
    log: list[str] = []
    try:
        async with held(engines[0], "first-start"):
            log.append("first in")

            async def second() -> None:
                async with held(engines[1], "first-start"):
                    log.append("second in")

            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.3)
            assert not waiting.done()
            async with asyncio.timeout(10), held(engines[1], "another"):
                log.append("another in")
            log.append("first out")
        await asyncio.wait_for(waiting, 10)
        assert log == ["first in", "another in", "first out", "second in"]
    finally:
        for engine in engines:
            await engine.dispose()


def test_lock_keys_are_stable_and_distinct() -> None:
    assert lock_key("first-start") == lock_key("first-start")
    assert lock_key("first-start") != lock_key("another")


async def test_a_file_lock_makes_a_second_holder_wait(tmp_path: Path) -> None:
    lock = tmp_path / "store.open.lock"
    log: list[str] = []

    def second() -> None:
        with file_held(lock):
            log.append("second in")

    with file_held(lock):
        waiting = asyncio.create_task(asyncio.to_thread(second))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        log.append("first out")
    await asyncio.wait_for(waiting, 10)
    assert log == ["first out", "second in"]
