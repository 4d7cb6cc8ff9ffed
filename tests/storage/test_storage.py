import asyncio
from datetime import date

from sqlalchemy import inspect

from storage import create_engine, current_revision, head_revision, session_factory, upgrade
from storage.documents import NewChunk, delete_document, get_or_create_source, replace_chunks
from storage.models import Document
from storage.opportunities import changes_of, upsert_opportunity
from storage.questions import get_meta, set_meta
from storage.search import document_frequencies, lexical_search


async def _engine(db_url: str):
    engine = create_engine(db_url)
    await upgrade(engine)
    return engine


async def test_first_upgrade_migrates_then_nothing_to_do(db_url: str) -> None:
    engine = create_engine(db_url)
    assert await current_revision(engine) is None
    assert await upgrade(engine) is True
    assert await current_revision(engine) == head_revision()
    assert await upgrade(engine) is False
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    assert {"sources", "documents", "chunks", "opportunities", "questions"} <= tables
    await engine.dispose()


async def _document(session, title: str = "Doc", audience: str = "public") -> Document:
    source = await get_or_create_source(session, uri=f"file:{title}", audience=audience)
    doc = Document(
        source_id=source.id, external_id="d", title=title, content_hash="h", audience=audience
    )
    session.add(doc)
    await session.flush()
    return doc


async def test_lexical_search_filters_audience_and_drops_deleted(db_url: str) -> None:
    engine = await _engine(db_url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        public = await _document(session, "Public")
        staff = await _document(session, "Staff", audience="staff")
        await replace_chunks(
            session, public, [NewChunk("p1", 0, None, "microbiome network meeting")]
        )
        await replace_chunks(session, staff, [NewChunk("s1", 0, None, "microbiome salary table")])
    async with sessions() as session:
        hits = await lexical_search(session, terms=["microbiome"], audiences=["public"])
        assert [h[0] for h in hits] == ["p1"]
        both = await lexical_search(session, terms=["microbiome"], audiences=["public", "staff"])
        assert {h[0] for h in both} == {"p1", "s1"}
        assert await document_frequencies(session, ["microbiome", "zebra"]) == {
            "microbiome": 2,
            "zebra": 0,
        }
        # quotes and FTS syntax in user text are matched literally, not parsed
        assert (
            await lexical_search(session, terms=['net"work', "OR", "*"], audiences=["public"])
            == []
        )
    async with sessions.begin() as session:
        doc = await session.get(Document, public.id)
        assert await delete_document(session, doc) == {"p1"}
    async with sessions() as session:
        assert await lexical_search(session, terms=["microbiome"], audiences=["public"]) == []
    await engine.dispose()


async def test_lexical_search_weighs_title_then_section_then_text(db_url: str) -> None:
    """Both databases rank a match in the title above one in a heading, above one in text."""
    engine = await _engine(db_url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        titled = await _document(session, "Launchpad incubator")
        headed = await _document(session, "Programmes")
        mentioned = await _document(session, "News")
        body = "places for twelve start-ups each spring, mentoring and lab benches"
        await replace_chunks(session, mentioned, [NewChunk("b", 0, None, f"{body}; Launchpad")])
        await replace_chunks(session, headed, [NewChunk("m", 0, "Launchpad", body)])
        await replace_chunks(session, titled, [NewChunk("z", 0, None, body)])
    async with sessions() as session:
        hits = await lexical_search(session, terms=["launchpad"], audiences=["public"])
    await engine.dispose()
    # Neither insertion order (b, m, z) nor chunk-id order explains this one.
    assert [h[0] for h in hits] == ["z", "m", "b"]


async def test_opportunity_changes_are_recorded(db_url: str) -> None:
    engine = await _engine(db_url)
    sessions = session_factory(engine)
    fields = {
        "external_id": "CALL-1",
        "kind": "funding_call",
        "title": "Call",
        "deadlines": ["2027-01-10"],
        "budget_total_eur": 1_000_000,
        "status": "Open",
    }
    async with sessions.begin() as session:
        doc = await _document(session)
        _opp, changes = await upsert_opportunity(
            session, source_id=doc.source_id, document_id=doc.id, fields=fields
        )
        assert changes == []
        moved = {
            **fields,
            "deadlines": ["2027-02-10"],
            "budget_total_eur": 1_500_000,
            "opening_date": date(2026, 12, 1),
        }
        _opp, changes = await upsert_opportunity(
            session, source_id=doc.source_id, document_id=doc.id, fields=moved
        )
        assert {c.field for c in changes} == {"deadlines", "budget_total_eur", "opening_date"}
    async with sessions() as session:
        recorded = {c.field: (c.old, c.new) for c in await changes_of(session, "CALL-1")}
        assert recorded["deadlines"] == (["2027-01-10"], ["2027-02-10"])
        assert recorded["opening_date"] == (None, "2026-12-01")
    await engine.dispose()


async def test_meta_roundtrip(db_url: str) -> None:
    engine = await _engine(db_url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        assert await get_meta(session, "k") is None
        await set_meta(session, "k", "1")
        await set_meta(session, "k", "2")
    async with sessions() as session:
        assert await get_meta(session, "k") == "2"
    await engine.dispose()


async def test_two_processes_writing_one_fact_at_once_both_succeed(db_url: str) -> None:
    """Processes starting together on a new database each record the embedding model."""
    engines = [await _engine(db_url), create_engine(db_url)]
    first, second = (session_factory(engine) for engine in engines)
    try:
        async with first.begin() as session:
            await set_meta(session, "embedding_model", "model-a")

            async def meanwhile() -> None:
                async with second.begin() as other:
                    await set_meta(other, "embedding_model", "model-b")

            racing = asyncio.create_task(meanwhile())
            await asyncio.sleep(0.3)  # the second write waits on the first's transaction
            assert not racing.done()
        await asyncio.wait_for(racing, 15)
        async with first() as session:
            assert await get_meta(session, "embedding_model") == "model-b"
    finally:
        for engine in engines:
            await engine.dispose()
