"""``Ingester.ingest_items``: items the bot makes itself go the way a parsed file's items go."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ingest.chunk import Chunker
from ingest.loaders import Limits
from ingest.loaders.describe import opportunity_item
from ingest.pipeline import Ingester
from ingest.types import Opportunity, ParsedItem
from knowledge.vectors import VectorIndex, persistent_client
from storage import create_engine, session_factory, upgrade
from storage.documents import all_vector_ids
from storage.engine import SessionFactory
from storage.models import Chunk, Document
from storage.models import Opportunity as OpportunityRow
from tests.factories import shared_embedder

URI = "staff-event:test-1"


@dataclass
class Rig:
    ingester: Ingester
    sessions: SessionFactory
    index: VectorIndex


@pytest.fixture
async def rig(db_url: str, tmp_path: Path) -> AsyncIterator[Rig]:
    engine = create_engine(db_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    index = VectorIndex(client=persistent_client(tmp_path / "chroma"), embedder=shared_embedder())
    ingester = Ingester(sessions=sessions, index=index, chunker=Chunker(), limits=Limits())
    yield Rig(ingester, sessions, index)
    await engine.dispose()


def _item(title: str) -> list[ParsedItem]:
    opp = Opportunity(id="test-1", kind="event", title=title, location="Hall 2")
    return [opportunity_item(opp, [("Description", "Pitches and coffee for biobanks.")])]


async def _counts(rig: Rig) -> tuple[int, int, int, int]:
    async with rig.sessions() as session:
        docs = await session.scalar(select(func.count()).select_from(Document))
        chunks = await session.scalar(select(func.count()).select_from(Chunk))
        opps = await session.scalar(select(func.count()).select_from(OpportunityRow))
        vectors = await all_vector_ids(session)
    assert rig.index.ids() == vectors
    return int(docs or 0), int(chunks or 0), int(opps or 0), len(vectors)


async def test_items_are_stored_updated_once_and_removed(rig: Rig) -> None:
    ingester = rig.ingester
    added = await ingester.ingest_items(URI, _item("Biobank Breakfast"), audience="members")
    assert (added.added, added.files) == (1, 1)
    docs, chunks, opps, vectors = await _counts(rig)
    assert (docs, opps) == (1, 1)
    assert chunks >= 1
    assert vectors == chunks

    same = await ingester.ingest_items(URI, _item("Biobank Breakfast"), audience="members")
    assert (same.added, same.updated, same.unchanged) == (0, 0, 1)
    changed = await ingester.ingest_items(URI, _item("Biobank Brunch"), audience="members")
    assert changed.updated == 1

    removed = await ingester.ingest_items(URI, [])
    assert removed.removed == 1
    assert await _counts(rig) == (0, 0, 0, 0)
