"""An assembled app over a private copy of the demo store, and a chat with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from tests.bot.chat import Chat
from tests.factories import make_app


@pytest.fixture
async def app(demo_dir: Path) -> AsyncIterator[App]:
    built = await make_app(demo_dir)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def chat(app: App) -> Chat:
    return Chat(app.assistant)
