"""The ingest pipeline end to end: parse, chunk, embed, store, index; idempotent and atomic."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from ingest.chunk import Chunker
from ingest.loaders import Limits
from ingest.pipeline import Ingester, discover, reconcile
from knowledge.vectors import VectorIndex, persistent_client
from storage import create_engine, session_factory, upgrade
from storage.documents import all_vector_ids
from storage.engine import SessionFactory
from storage.models import Chunk, Document, Source
from storage.opportunities import changes_of
from tests.factories import DEMO_CORPUS, shared_embedder
from tests.ingest.builders import make_pdf

CSV_HEAD = "id,kind,title,deadlines,budget_total_eur,description\n"


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
    index = VectorIndex(
        client=persistent_client(tmp_path / "store" / "chroma"), embedder=shared_embedder()
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/calls.md":
            return httpx.Response(
                200,
                text="---\nid: WEB-1\nkind: funding_call\ntitle: Web call\n---\n# Web call\nA call for sepsis diagnostics.",
            )
        return httpx.Response(404)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ingester = Ingester(
        sessions=sessions,
        index=index,
        chunker=Chunker(chunk_chars=400, overlap=50),
        limits=Limits(max_file_bytes=200_000),
        http=http,
    )
    yield Rig(ingester, sessions, index)
    await http.aclose()
    await engine.dispose()


async def _consistent(rig: Rig) -> set[str]:
    async with rig.sessions() as session:
        ids = await all_vector_ids(session)
    assert rig.index.ids() == ids
    return ids


async def test_demo_corpus_ingests_and_reingest_changes_nothing(rig: Rig) -> None:
    first = await rig.ingester.ingest([str(DEMO_CORPUS)])
    assert first.failed == 0
    assert first.added >= 25
    assert first.chunks_embedded > 0
    ids = await _consistent(rig)
    again = await rig.ingester.ingest([str(DEMO_CORPUS)])
    assert (again.added, again.updated, again.removed, again.chunks_embedded) == (0, 0, 0, 0)
    assert again.unchanged == first.added
    assert await _consistent(rig) == ids


async def test_changed_item_is_replaced_and_change_recorded(rig: Rig, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        CSV_HEAD + "C-1,funding_call,Sepsis call,2027-01-10,1000000,Rapid sepsis diagnostics.\n"
        "C-2,funding_call,Wound call,2027-02-10,500000,Chronic wound care.\n"
    )
    await rig.ingester.ingest([str(path)])
    path.write_text(
        CSV_HEAD + "C-1,funding_call,Sepsis call,2027-03-31,1500000,Rapid sepsis diagnostics.\n"
        "C-2,funding_call,Wound call,2027-02-10,500000,Chronic wound care.\n"
    )
    summary = await rig.ingester.ingest([str(path)])
    assert (summary.updated, summary.unchanged, summary.added) == (1, 1, 0)
    async with rig.sessions() as session:
        changes = {c.field: (c.old, c.new) for c in await changes_of(session, "C-1")}
    assert changes["deadlines"] == (["2027-01-10"], ["2027-03-31"])
    assert changes["budget_total_eur"] == (1_000_000, 1_500_000)
    await _consistent(rig)


async def test_vanished_item_is_removed_with_its_vectors(rig: Rig, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        CSV_HEAD
        + "C-1,funding_call,Sepsis call,2027-01-10,1,Sepsis.\nC-2,funding_call,Wound call,2027-02-10,1,Wounds.\n"
    )
    await rig.ingester.ingest([str(path)])
    path.write_text(CSV_HEAD + "C-1,funding_call,Sepsis call,2027-01-10,1,Sepsis.\n")
    summary = await rig.ingester.ingest([str(path)])
    assert summary.removed == 1
    async with rig.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 1
    await _consistent(rig)


async def test_bad_files_fail_alone_and_write_nothing(rig: Rig, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "broken.pdf").write_bytes(make_pdf([["Hello world"]])[:200])
    (tmp_path / "locked.pdf").write_bytes(make_pdf([["Secret"]], password="pw"))
    (tmp_path / "huge.txt").write_text("x" * 300_000)
    (tmp_path / "data.bin").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "good.md").write_text("# Lab space\nWet lab benches cost 450 euros a month.")
    targets = [
        str(tmp_path / n)
        for n in ("empty.txt", "broken.pdf", "locked.pdf", "huge.txt", "data.bin", "good.md")
    ]
    summary = await rig.ingester.ingest([*targets, str(tmp_path / "missing.pdf")])
    assert summary.added == 1
    assert summary.failed == 6
    assert len(summary.errors) == 6
    for name in ("empty.txt", "broken.pdf", "locked.pdf", "huge.txt", "data.bin", "missing.pdf"):
        line = next(e for e in summary.errors if name in e)
        assert "\n" not in line
    async with rig.sessions() as session:
        uris = set(await session.scalars(select(Source.uri)))
    assert uris == {str((tmp_path / "good.md").resolve())}
    await _consistent(rig)


async def test_audience_change_updates_vector_filters(rig: Rig, tmp_path: Path) -> None:
    path = tmp_path / "board.md"
    path.write_text("# Board notes\nThe board approved a sepsis diagnostics budget.")
    await rig.ingester.ingest([str(path)], audience="public")
    vector = shared_embedder().embed_array(["sepsis budget"], query=True)[0]
    assert rig.index.query(vector, limit=5, audiences=["public"])
    summary = await rig.ingester.ingest([str(path)], audience="staff")
    assert summary.updated == 1
    assert summary.chunks_embedded == 0  # same text, same vectors: only the filter changed
    assert rig.index.query(vector, limit=5, audiences=["public"]) == []
    assert rig.index.query(vector, limit=5, audiences=["staff"])


async def test_reconcile_repairs_a_lagging_vector_store(rig: Rig) -> None:
    await rig.ingester.ingest([str(DEMO_CORPUS / "funding-calls.csv")])
    ids = sorted(rig.index.ids())
    rig.index.delete(ids[:3])
    assert await reconcile(rig.sessions, rig.index) == 3
    await _consistent(rig)


async def test_urls_are_fetched_and_http_errors_reported(rig: Rig) -> None:
    summary = await rig.ingester.ingest(
        ["https://cluster.example/calls.md", "https://cluster.example/gone.md"]
    )
    assert summary.added == 1
    assert summary.failed == 1
    assert "HTTP 404" in summary.errors[0]


def test_discover_skips_hidden_and_provenance_files(tmp_path: Path) -> None:
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "a.md").write_text("x")
    (tmp_path / "SOURCE.md").write_text("x")
    (tmp_path / "LICENSE.Apache-2.0.txt").write_text("x")
    (tmp_path / "notes.md").write_text("x")
    (tmp_path / "image.png").write_bytes(b"x")
    found, errors = discover([str(tmp_path), str(tmp_path / "nope")])
    assert found == [str(tmp_path / "notes.md")]
    assert errors == [f"{tmp_path / 'nope'}: no such file or folder"]


async def test_shared_boilerplate_gets_one_vector(rig: Rig, tmp_path: Path) -> None:
    boiler = (
        "Eligible countries are described in Annex B of the General Annexes of the programme. "
        "Admissibility conditions and page limits are described in Annex A and Annex E. "
        "Financial and operational capacity and exclusion are described in Annex C. "
        "Award criteria, scoring and thresholds are described in Annex D of the General Annexes."
    )
    rows = [
        {
            "id": f"T-{n}",
            "kind": "funding_call",
            "title": f"Topic {n}",
            "description": (f"Topic {n} funds research on {w}. " * 12)[:370] + f"\n\n{boiler}",
        }
        for n, w in enumerate(["sepsis", "wounds", "vaccines", "microbiome"])
    ]
    path = tmp_path / "topics.json"
    path.write_text(json.dumps(rows))
    summary = await rig.ingester.ingest([str(path)])
    async with rig.sessions() as session:
        chunks = (await session.scalars(select(Chunk))).all()
    shared = [c for c in chunks if c.shared]
    assert len(shared) == 4
    assert len({c.vector_id for c in shared}) == 1
    assert summary.chunks_embedded == len({c.vector_id for c in chunks})
    await _consistent(rig)
    # Removing three of the four topics keeps the shared vector; removing all drops it.
    path.write_text(json.dumps(rows[:1]))
    await rig.ingester.ingest([str(path)])
    await _consistent(rig)
    assert shared[0].vector_id in rig.index.ids()
