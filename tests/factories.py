"""Builders for tests: an assembled app on a temporary data directory."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from bot.app import DEMO_CORPUS, App, build_app
from bot.config import Settings
from knowledge.clock import FixedClock
from knowledge.embeddings import MiniLmInt8Embedder, TextEmbedder
from tests import pg

TODAY = date(2026, 11, 28)
__all__ = ["DEMO_CORPUS", "TODAY", "make_app", "shared_embedder"]


@cache
def shared_embedder() -> TextEmbedder:
    """The real default embedder, loaded once per test session."""
    return MiniLmInt8Embedder()


async def make_app(
    data_dir: Path,
    *,
    today: date = TODAY,
    chat_model: BaseChatModel | None = None,
    embedder: TextEmbedder | None = None,
    **settings: object,
) -> App:
    """An app on ``data_dir`` with a fixed clock and the shared embedder.

    On the PostgreSQL run, a store built for a whole module or session gets a database of
    its own; a test's own folders use the test's database (from the environment).
    """
    if pg.ACTIVE is not None and "database_url" not in settings:
        url = pg.ACTIVE.database_for(data_dir)
        if url is not None:
            settings["database_url"] = url
    return await build_app(
        Settings(data_dir=data_dir, **settings),  # type: ignore[arg-type]
        clock=FixedClock(today),
        embedder=embedder or shared_embedder(),
        chat_model=chat_model,
    )
