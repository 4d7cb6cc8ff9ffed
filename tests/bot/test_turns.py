"""Turns: one person's messages one at a time and in order; others never wait."""

from __future__ import annotations

import asyncio

import pytest

from bot.turns import Turns


async def test_one_key_is_taken_in_arrival_order_and_never_twice_at_once() -> None:
    turns = Turns()
    log: list[str] = []

    async def message(name: str) -> None:
        async with turns.hold("telegram:1"):
            log.append(f"{name} in")
            await asyncio.sleep(0.01)
            log.append(f"{name} out")

    await asyncio.gather(*(message(name) for name in "abc"))
    assert log == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert len(turns) == 0


async def test_other_keys_do_not_wait() -> None:
    turns = Turns()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> None:
        async with turns.hold("telegram:1"):
            inside.set()
            await release.wait()

    first = asyncio.create_task(slow())
    await inside.wait()
    async with asyncio.timeout(5):
        async with turns.hold("telegram:2"):
            assert len(turns) == 2
    release.set()
    await first
    assert len(turns) == 0


async def test_a_failing_holder_passes_the_turn_on() -> None:
    turns = Turns()
    with pytest.raises(RuntimeError):
        async with turns.hold("k"):
            raise RuntimeError("handler bug")
    async with asyncio.timeout(5):
        async with turns.hold("k"):
            pass
    assert len(turns) == 0
