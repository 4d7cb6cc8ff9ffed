"""The matcher: profiles against every live opportunity at once, hard filters then a score.

One call loads the opportunities of the wanted kinds and audiences, keeps those open or
forthcoming on the day (one per topic when several sources list it), prepares their text
(cached by chunk ids, which change whenever the text does) and their vectors (the chunk
vectors Chroma already holds, cached by vector id), embeds the profile texts it has not seen,
and scores every (profile, opportunity) pair with numpy; reasons are built only for the
matches returned.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.embeddings import EmbeddingError
from knowledge.match import feedback as fb
from knowledge.match.candidates import (
    EMPTY_DOC,
    Candidate,
    ChunkRow,
    DocText,
    build_candidate,
    doc_text,
)
from knowledge.match.filters import LIVE, Eligibility, eligibility, status_today
from knowledge.match.reasons import Evidence, build_reasons
from knowledge.match.scoring import (
    FIELD_WEIGHTS,
    TermTable,
    combine,
    semantic_scale,
    term_table,
)
from knowledge.match.semantic import OpportunityVectors, best_chunk, similarity
from knowledge.match.terms import plan
from knowledge.match.types import Match
from knowledge.profile import Profile
from knowledge.vectors import VectorIndex
from storage.engine import SessionFactory
from storage.models import Chunk, Opportunity
from storage.opportunities import list_opportunities

logger = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
_PROFILE_CACHE = 20_000


@dataclass
class _Corpus:
    """The candidates of one call, with what is computed once for all profiles."""

    candidates: list[Candidate]
    vectors: OpportunityVectors | None
    columns: dict[str, Matrix]


class Matcher:
    """Matches company profiles to open and forthcoming opportunities.

    Args:
        sessions: The database.
        index: The vector store (its embedder embeds profile texts).
        semantic: How an opportunity's chunk similarities become one: "mean" (measured best,
            see bench/match.py), "max", "top2" or "head"
            (:func:`knowledge.match.semantic.similarity`).
    """

    def __init__(
        self, *, sessions: SessionFactory, index: VectorIndex, semantic: str = "mean"
    ) -> None:
        self._sessions = sessions
        self._index = index
        self._mode = semantic
        self._docs: dict[int, tuple[tuple[str, ...], DocText]] = {}
        self._vectors: dict[str, Matrix] = {}
        self._profiles: OrderedDict[str, Matrix | None] = OrderedDict()

    async def match(
        self,
        profile: Profile,
        *,
        today: date,
        kinds: Sequence[str] = ("funding_call",),
        audiences: Sequence[str] = ("public",),
        limit: int | None = 10,
        opportunity_ids: Collection[int] | None = None,
        feedback: Mapping[int, str] | None = None,
        min_score: float = 0.0,
    ) -> list[Match]:
        """The opportunities that fit one profile, best first (see :meth:`match_many`)."""
        (found,) = await self.match_many(
            [profile],
            today=today,
            kinds=kinds,
            audiences=audiences,
            limit=limit,
            opportunity_ids=opportunity_ids,
            feedback=[feedback],
            min_score=min_score,
        )
        return found

    async def match_many(
        self,
        profiles: Sequence[Profile],
        *,
        today: date,
        kinds: Sequence[str] = ("funding_call",),
        audiences: Sequence[str] = ("public",),
        limit: int | None = 10,
        opportunity_ids: Collection[int] | None = None,
        feedback: Sequence[Mapping[int, str] | None] | None = None,
        min_score: float = 0.0,
    ) -> list[list[Match]]:
        """The opportunities that fit each profile, best first, soonest deadline next.

        Args:
            profiles: The companies.
            today: The day statuses and days left are computed for.
            kinds: Opportunity kinds wanted (funding_call, event, ...).
            audiences: Whose documents may be used.
            limit: Matches per profile (None: all).
            opportunity_ids: Only these opportunities (e.g. just ingested); None: all.
            feedback: Per profile, opportunity id -> relevant / not_for_us / already_knew.
            min_score: Matches scoring below this are left out.

        Returns:
            One list of matches per profile, in the order of ``profiles``.

        Raises:
            ValueError: If ``feedback`` is given with a different length than ``profiles``.
        """
        if feedback is not None and len(feedback) != len(profiles):
            raise ValueError("feedback must have one entry (or None) per profile")
        if not profiles:
            return []
        corpus = await self._corpus(
            today=today, kinds=kinds, audiences=audiences, only=opportunity_ids
        )
        if not corpus.candidates:
            return [[] for _ in profiles]
        vectors = await self.profile_vectors(profiles)
        return await asyncio.to_thread(
            self._rank,
            profiles,
            vectors,
            corpus,
            today=today,
            limit=limit,
            feedback=list(feedback or [None] * len(profiles)),
            judged=await self._judged(feedback or []),
            min_score=min_score,
        )

    # -- profiles --------------------------------------------------------------------------

    async def profile_vectors(self, profiles: Sequence[Profile]) -> list[Matrix | None]:
        """The vector of each profile's text (None for an empty text or a failed embedding).

        Vectors are kept per text, so a planner run re-embeds only changed profiles.
        """
        texts = [p.text for p in profiles]
        missing = list(dict.fromkeys(t for t in texts if t and t not in self._profiles))
        if missing:
            try:
                rows = await self._index.embedder.aembed_array(missing, query=True)
            except EmbeddingError:
                logger.warning("profile texts could not be embedded; matching on fields only")
                rows = np.zeros((0, 0), dtype=np.float32)
            for n, text in enumerate(missing):
                self._profiles[text] = rows[n] if n < len(rows) else None
            while len(self._profiles) > _PROFILE_CACHE:
                self._profiles.popitem(last=False)
        return [self._profiles.get(t) if t else None for t in texts]

    # -- opportunities ---------------------------------------------------------------------

    async def _corpus(
        self,
        *,
        today: date,
        kinds: Sequence[str],
        audiences: Sequence[str],
        only: Collection[int] | None,
    ) -> _Corpus:
        wanted = set(only) if only is not None else None
        async with self._sessions() as session:
            rows = await list_opportunities(session, kinds=list(kinds), audiences=audiences)
            live = [
                (opp, source, status)
                for opp, source in rows
                if (wanted is None or opp.id in wanted)
                and (status := status_today(opp, today)) in LIVE
            ]
            docs = await self._doc_texts(session, [opp.document_id for opp, _, _ in live])
        groups: dict[str, list[tuple[Opportunity, str, str]]] = {}
        for opp, source, status in live:
            groups.setdefault(opp.external_id.strip().upper(), []).append((opp, source, status))
        candidates = []
        for group in groups.values():
            # The record with the most text of its own speaks for the topic.
            group.sort(key=lambda r: (-len(docs.get(r[0].document_id, EMPTY_DOC).topic_zone),))
            first = group[0]
            candidates.append(
                build_candidate(
                    [(o, s) for o, s, _ in group],
                    docs.get(first[0].document_id, EMPTY_DOC),
                    status=first[2],
                )
            )
        vectors = await self._opportunity_vectors([c.doc.vector_ids for c in candidates])
        return _Corpus(candidates, vectors, {})

    async def _doc_texts(
        self, session: AsyncSession, document_ids: Sequence[int]
    ) -> dict[int, DocText]:
        """Each document's prepared text, reading chunk texts only for changed documents.

        The two reads below belong with the other chunk queries in ``storage.documents``
        once that module offers them; they are here to keep this change in one package.
        """
        if not document_ids:
            return {}
        ids = sorted(set(document_ids))
        signatures: dict[int, list[str]] = {}
        for batch in _batches(ids):
            result = await session.execute(
                select(Chunk.document_id, Chunk.id)
                .where(Chunk.document_id.in_(batch))
                .order_by(Chunk.document_id, Chunk.ordinal)
            )
            for doc_id, chunk_id in result:
                signatures.setdefault(doc_id, []).append(chunk_id)
        stale = [d for d in ids if d not in self._docs or self._docs[d][0] != tuple(signatures[d])]
        for batch in _batches(stale):
            chunks: dict[int, list[ChunkRow]] = {}
            rows = await session.execute(
                select(
                    Chunk.document_id,
                    Chunk.id,
                    Chunk.ordinal,
                    Chunk.section,
                    Chunk.text,
                    Chunk.shared,
                    Chunk.vector_id,
                )
                .where(Chunk.document_id.in_(batch))
                .order_by(Chunk.document_id, Chunk.ordinal)
            )
            for doc_id, chunk_id, ordinal, section, text, shared, vector_id in rows:
                chunks.setdefault(doc_id, []).append(
                    ChunkRow(chunk_id, doc_id, ordinal, section, text, shared, vector_id)
                )
            for doc_id in batch:
                found = chunks.get(doc_id, [])
                self._docs[doc_id] = (tuple(c.id for c in found), doc_text(found))
        return {d: self._docs[d][1] for d in ids if d in self._docs}

    async def _opportunity_vectors(
        self, vector_ids: Sequence[Sequence[str]]
    ) -> OpportunityVectors:
        needed = {v for ids in vector_ids for v in ids}
        if needed - self._vectors.keys():
            # Vector ids are content hashes: a cached vector never goes stale. Chroma has no
            # cheap lookup by id through VectorIndex, so missing ones come in one full read.
            stored = await asyncio.to_thread(self._index.vectors)
            self._vectors = {
                k: np.asarray(v, dtype=np.float32)
                for k, v in stored.items()
                if k in needed or k in self._vectors
            }
        return OpportunityVectors.build(vector_ids, self._vectors, self._index.embedder.dimension)

    async def _judged(self, feedback: Sequence[Mapping[int, str] | None]) -> dict[int, fb.Judged]:
        """The mean topic vector and name of every opportunity feedback was given on."""
        ids = fb.judged_of(feedback)
        if not ids:
            return {}
        async with self._sessions() as session:
            opps = list(
                await session.scalars(select(Opportunity).where(Opportunity.id.in_(sorted(ids))))
            )
            docs = await self._doc_texts(session, [o.document_id for o in opps])
        vectors = await self._opportunity_vectors(
            [docs.get(o.document_id, EMPTY_DOC).vector_ids for o in opps]
        )
        return {
            opp.id: fb.Judged(vectors.mean[n], f"“{opp.title}” ({opp.external_id})")
            for n, opp in enumerate(opps)
        }

    # -- scoring ---------------------------------------------------------------------------

    def _rank(
        self,
        profiles: Sequence[Profile],
        vectors: Sequence[Matrix | None],
        corpus: _Corpus,
        *,
        today: date,
        limit: int | None,
        feedback: Sequence[Mapping[int, str] | None],
        judged: Mapping[int, fb.Judged],
        min_score: float,
    ) -> list[list[Match]]:
        cands = corpus.candidates
        has_vector = [v is not None for v in vectors]
        cosine: Matrix | None = None
        if corpus.vectors is not None and any(has_vector):
            dim = corpus.vectors.chunks.shape[1]
            stacked = np.vstack(
                [v if v is not None else np.zeros(dim, dtype=np.float32) for v in vectors]
            ).astype(np.float32)
            cosine = similarity(stacked, corpus.vectors, mode=self._mode)
        table = term_table(profiles, cands, corpus.columns)
        scores, _ = combine(
            profiles,
            cands,
            semantic=semantic_scale(cosine) if cosine is not None else None,
            has_vector=has_vector,
            table=table,
        )
        allowed, notes = _eligibility(profiles, cands)
        order = _Order.of(cands)
        results = []
        for row, profile in enumerate(profiles):
            row_scores = scores[row].copy()
            row_notes: list[tuple[str, ...]] = [()] * len(cands)
            given = feedback[row]
            if given and corpus.vectors is not None:
                change, row_notes = fb.adjust(corpus.vectors.mean, given, judged)
                row_scores = np.clip(row_scores + change, 0.0, 1.0)
            keep = allowed[row] & (row_scores >= min_score)
            chosen = _top(row_scores, keep, order, limit)
            results.append(
                [
                    self._match(
                        profile,
                        cands[i],
                        float(row_scores[i]),
                        Evidence(
                            term_hits=_hits(profile, table, i),
                            cosine=_cosine(cosine, has_vector[row], row, i),
                            best=_best(vectors[row], corpus.vectors, i),
                            eligibility=notes[row][i],
                            feedback=row_notes[i],
                        ),
                        today,
                    )
                    for i in chosen
                ]
            )
        return results

    @staticmethod
    def _match(
        profile: Profile, cand: Candidate, score: float, evidence: Evidence, today: date
    ) -> Match:
        return Match(
            opportunity=cand.opportunity,
            source=cand.source,
            score=round(score, 3),
            status_today=cand.status,
            deadlines=cand.deadlines,
            reasons=build_reasons(profile, cand, evidence, today=today),
            as_of=today,
        )


def _batches(ids: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _hits(profile: Profile, table: TermTable, i: int) -> dict[str, float]:
    """The strength of each of the profile's terms in candidate ``i``."""
    found = {}
    for name in FIELD_WEIGHTS:
        for term in getattr(profile, name):
            k = table.index.get(plan(term).key)
            if k is not None and table.hits[i, k] > 0:
                found[table.plans[k].key] = float(table.hits[i, k])
    return found


def _cosine(cosine: Matrix | None, has: bool, row: int, i: int) -> float | None:
    return None if cosine is None or not has else float(cosine[row, i])


def _best(vector: Matrix | None, opps: OpportunityVectors | None, i: int) -> int | None:
    if vector is None or opps is None:
        return None
    found = best_chunk(vector, opps, i)
    return None if found is None else found[0]


def _top(
    scores: Matrix, keep: npt.NDArray[np.bool_], order: _Order, limit: int | None
) -> list[int]:
    """Indices of the best kept candidates: score, then soonest deadline, then title."""
    idx = np.nonzero(keep)[0]
    if limit is not None and len(idx) > limit * 3:
        part = np.argpartition(-scores[idx], limit * 3)[: limit * 3]
        idx = idx[part]
    rounded = np.round(scores[idx].astype(np.float64), 3)
    ranked = idx[np.lexsort((order.title[idx], order.deadline[idx], -rounded))]
    return [int(i) for i in (ranked if limit is None else ranked[:limit])]


@dataclass(frozen=True)
class _Order:
    """Tie-breakers per candidate: first deadline (as a day number) and title rank."""

    deadline: npt.NDArray[np.int64]
    title: npt.NDArray[np.int64]

    @classmethod
    def of(cls, cands: Sequence[Candidate]) -> _Order:
        first = [
            c.deadlines[0].toordinal() if c.deadlines else date.max.toordinal() for c in cands
        ]
        titles = sorted(range(len(cands)), key=lambda i: cands[i].opportunity.title)
        rank = np.empty(len(cands), dtype=np.int64)
        rank[titles] = np.arange(len(cands))
        return cls(np.asarray(first, dtype=np.int64), rank)


def _eligibility(
    profiles: Sequence[Profile], cands: Sequence[Candidate]
) -> tuple[npt.NDArray[np.bool_], list[list[Eligibility]]]:
    """Hard filters per profile, computed once per (country, kind of organisation).

    Most calls state no rule: those are checked once for every profile.
    """
    ruled = [
        n
        for n, c in enumerate(cands)
        if c.opportunity.countries or c.opportunity.org_types or c.sme_only
    ]
    free = Eligibility(True)
    seen: dict[tuple[str | None, str | None], tuple[npt.NDArray[np.bool_], list[Eligibility]]] = {}
    allowed = np.ones((len(profiles), len(cands)), dtype=bool)
    notes: list[list[Eligibility]] = []
    for row, profile in enumerate(profiles):
        key = (profile.country, profile.org_type)
        if key not in seen:
            found = [free] * len(cands)
            ok = np.ones(len(cands), dtype=bool)
            for n in ruled:
                c = cands[n]
                found[n] = eligibility(
                    c.opportunity, country=key[0], org_type=key[1], sme_only=c.sme_only
                )
                ok[n] = found[n].ok
            seen[key] = (ok, found)
        allowed[row], row_notes = seen[key]
        notes.append(row_notes)
    return allowed, notes


__all__ = ["Matcher"]
