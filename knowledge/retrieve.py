"""Hybrid retrieval: dense vectors (Chroma) and lexical matches (FTS), fused by rank.

Both retrievers see the same chunks and the same audience and kind filters, so a member-only
passage can never reach someone who may only see public documents. A topic identifier in the
question pins that topic's record first. Every passage leaves with its opportunity's status
on the asking day, computed from its dates.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.dates import status_on
from knowledge.text import content_terms, identifiers, words
from knowledge.types import Passage
from knowledge.vectors import VectorIndex
from storage.documents import chunk_ids_of, chunks_by_ids, chunks_for_vectors
from storage.engine import SessionFactory
from storage.models import Opportunity
from storage.opportunities import find_by_external_ids, opportunities_by_document
from storage.search import chunk_count, document_frequencies, lexical_search


@dataclass(frozen=True)
class Retrieval:
    """Fused passages, best first, and the raw signals abstention weighs."""

    question: str
    passages: tuple[Passage, ...]
    terms: tuple[str, ...]
    term_df: dict[str, int] = field(default_factory=dict)
    total_chunks: int = 0
    dense_top: float = 0.0
    identifier_hit: bool = False


def _deadlines(opp: Opportunity) -> tuple[date, ...]:
    return tuple(date.fromisoformat(d) for d in opp.deadlines)


class Retriever:
    """Finds the passages that answer a question."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        index: VectorIndex,
        candidates: int = 40,
        rrf_k: int = 60,
        per_document: int = 3,
    ) -> None:
        self._sessions = sessions
        self._index = index
        self._candidates = candidates
        self._rrf_k = rrf_k
        self._per_document = per_document
        # How many chunks hold each word, for the abstention signals, per set of audiences
        # (member-only words must not sway a public answer); reset on corpus change.
        self._df_cache: dict[tuple[str, ...], dict[str, int]] = {}
        self._df_total: dict[tuple[str, ...], int] = {}

    async def retrieve(
        self,
        question: str,
        *,
        today: date,
        audiences: Sequence[str] = ("public",),
        kinds: Sequence[str] | None = None,
        limit: int = 10,
    ) -> Retrieval:
        """The best passages for a question, as the asker may see them on ``today``."""
        terms = content_terms(question)
        ids = identifiers(question)
        phrases = [" ".join(words(i)) for i in ids]
        vector_task = asyncio.to_thread(self._index.embedder.embed_array, [question], query=True)
        vector = (await vector_task)[0]
        dense_vectors = await self._index.aquery(
            vector, limit=self._candidates, audiences=audiences, kinds=kinds
        )
        async with self._sessions() as session:
            # Shared boilerplate has one vector for many chunks: take one chunk for it.
            owner = await chunks_for_vectors(session, [v for v, _s in dense_vectors])
            dense = [(owner[v], score) for v, score in dense_vectors if v in owner]
            lexical = await lexical_search(
                session,
                terms=terms,
                phrases=phrases,
                audiences=audiences,
                kinds=kinds,
                limit=self._candidates,
            )
            pinned = await self._pinned(session, ids, audiences)
            seen_by = tuple(sorted(set(audiences)))
            total = await chunk_count(session, audiences=seen_by)
            cache = self._df_cache.setdefault(seen_by, {})
            if total != self._df_total.get(seen_by) or len(cache) > 50_000:  # stale or too big
                cache.clear()
                self._df_total[seen_by] = total
            unseen = [t for t in terms if t not in cache]
            cache.update(await document_frequencies(session, unseen, audiences=seen_by))
            term_df = {t: cache.get(t, 0) for t in terms}
        fused: dict[str, float] = {}
        dense_rank: dict[str, int] = {}
        lexical_rank: dict[str, int] = {}
        dense_score = dict(dense)
        for rank, (chunk_id, _score) in enumerate(dense, start=1):
            dense_rank[chunk_id] = rank
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (self._rrf_k + rank)
        for rank, (chunk_id, _score) in enumerate(lexical, start=1):
            lexical_rank[chunk_id] = rank
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (self._rrf_k + rank)
        for chunk_id in pinned:
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0
        ranked = sorted(fused, key=lambda c: fused[c], reverse=True)[: limit * 4]
        passages = await self._passages(
            ranked,
            fused=fused,
            dense_score=dense_score,
            dense_rank=dense_rank,
            lexical_rank=lexical_rank,
            today=today,
        )
        return Retrieval(
            question=question,
            passages=tuple(self._diversify(passages, limit)),
            terms=tuple(terms),
            term_df=term_df,
            total_chunks=total,
            dense_top=max((s for _c, s in dense), default=0.0),
            identifier_hit=bool(pinned),
        )

    async def _pinned(
        self, session: AsyncSession, ids: list[str], audiences: Sequence[str]
    ) -> list[str]:
        """The first chunk of each opportunity named by identifier in the question."""
        if not ids:
            return []
        pinned: list[str] = []
        for opp in await find_by_external_ids(session, ids):
            chunk_ids = await chunk_ids_of(session, opp.document_id)
            pinned.extend(chunk_ids[:1])
        if not pinned:
            return []
        allowed = {
            c.id for c in await chunks_by_ids(session, pinned) if c.document.audience in audiences
        }
        return [c for c in pinned if c in allowed]

    async def _passages(
        self,
        ranked: list[str],
        *,
        fused: dict[str, float],
        dense_score: dict[str, float],
        dense_rank: dict[str, int],
        lexical_rank: dict[str, int],
        today: date,
    ) -> list[Passage]:
        async with self._sessions() as session:
            chunks = {c.id: c for c in await chunks_by_ids(session, ranked)}
            opps = await opportunities_by_document(
                session, sorted({c.document_id for c in chunks.values()})
            )
            # The same call may come from several sources, not all stating when it opens
            # (a snapshot without start dates beside the portal's own record): borrow it.
            undated = sorted({o.external_id for o in opps.values() if o.opening_date is None})
            opens = {
                o.external_id.upper(): o.opening_date
                for o in await find_by_external_ids(session, undated)
                if o.opening_date is not None
            }
        passages = []
        for chunk_id in ranked:
            chunk = chunks.get(chunk_id)
            if chunk is None:  # deleted since the vector was written; reconcile will catch up
                continue
            doc = chunk.document
            if doc.expires_at is not None and doc.expires_at < today:
                continue  # a curated answer past its date may be out of date
            opp = opps.get(doc.id)
            deadlines = _deadlines(opp) if opp else ()
            opening = (opp.opening_date or opens.get(opp.external_id.upper())) if opp else None
            passages.append(
                Passage(
                    chunk_id=chunk.id,
                    document_id=doc.id,
                    text=chunk.text,
                    title=doc.title,
                    source=doc.source.uri,
                    section=chunk.section,
                    url=(opp.url if opp and opp.url else doc.url),
                    record_id=opp.external_id if opp else None,
                    kind=opp.kind if opp else doc.kind,
                    audience=doc.audience,
                    status_today=(
                        status_on(
                            today,
                            opening_date=opening,
                            deadlines=deadlines,
                            two_stage=opp.two_stage,
                            recorded=opp.status,
                        )
                        if opp
                        else None
                    ),
                    opening_date=opening,
                    deadlines=deadlines,
                    two_stage=bool(opp and opp.two_stage),
                    score=fused[chunk_id],
                    dense_score=dense_score.get(chunk_id),
                    dense_rank=dense_rank.get(chunk_id),
                    lexical_rank=lexical_rank.get(chunk_id),
                )
            )
        return passages

    def _diversify(self, passages: list[Passage], limit: int) -> list[Passage]:
        """Keep at most a few passages per document, and one copy of repeated boilerplate.

        One long PDF cannot crowd out the rest, and text that many documents repeat word for
        word (general conditions) appears once.
        """
        taken: dict[int, int] = {}
        texts: set[str] = set()
        result = []
        for passage in passages:
            if taken.get(passage.document_id, 0) >= self._per_document or passage.text in texts:
                continue
            texts.add(passage.text)
            taken[passage.document_id] = taken.get(passage.document_id, 0) + 1
            result.append(passage)
            if len(result) == limit:
                break
        return result


def idf(df: int, total: int) -> float:
    """Inverse document frequency, smoothed; rare words weigh more."""
    return math.log((total + 1) / (df + 0.5))


__all__ = ["Retrieval", "Retriever", "idf"]
