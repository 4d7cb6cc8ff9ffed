"""Wiring: first run migrates, a changed embedding model re-indexes, the console loop works."""

from __future__ import annotations

import io
from pathlib import Path

from bot.console import chat_loop
from knowledge.vectors import collection_name
from storage import current_revision, head_revision
from tests.factories import make_app
from tests.fakes.embeddings import HashingEmbedder


async def test_first_run_migrates_the_database(tmp_path: Path) -> None:
    app = await make_app(tmp_path / "fresh")
    try:
        assert await current_revision(app.engine) == head_revision()
        assert await app.is_empty()
    finally:
        await app.close()


async def test_changing_the_embedding_model_reindexes(demo_dir: Path) -> None:
    first = await make_app(demo_dir)
    before = first.index.count()
    await first.close()
    other = HashingEmbedder(version="2")
    app = await make_app(demo_dir, embedder=other)
    try:
        assert app.index.count() == before
        assert other.calls == before
        names = {c.name for c in app.index._client.list_collections()}
        assert names == {
            collection_name(other.model_id, a) for a in ("public", "members", "staff")
        }
        answer = await app.answerer.answer("Launchpad incubator stipend")
        assert answer.citations
    finally:
        await app.close()
    again = await make_app(demo_dir, embedder=HashingEmbedder(version="2"))
    try:
        assert again.index.count() == before  # same model: nothing re-embedded
    finally:
        await again.close()


async def test_console_loop_answers_and_quits(demo_dir: Path) -> None:
    app = await make_app(demo_dir)
    lines = iter(
        ["/help", "How much does an S1 bench cost per month?", "/nonsense", "/quit", "never read"]
    )
    out = io.StringIO()
    try:
        await chat_loop(app.assistant, read_line=lambda: next(lines), out=out)
    finally:
        await app.close()
    text = out.getvalue()
    assert "Commands:" in text
    assert "I don't know /nonsense" in text
    assert next(lines) == "never read"
