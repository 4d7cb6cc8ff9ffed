"""Lexical search over chunks: SQLite FTS5 (bm25) or PostgreSQL full text (ts_rank)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession


def _fts5_query(terms: Sequence[str], phrases: Sequence[str]) -> str:
    """An FTS5 MATCH expression: any of the terms or phrases, each quoted literally."""
    quoted = ['"' + t.replace('"', '""') + '"' for t in (*phrases, *terms) if t.strip()]
    return " OR ".join(quoted)


async def lexical_search(
    session: AsyncSession,
    *,
    terms: Sequence[str],
    phrases: Sequence[str] = (),
    audiences: Sequence[str],
    kinds: Sequence[str] | None = None,
    limit: int = 40,
) -> list[tuple[str, float]]:
    """Chunks matching any term, best first, as (chunk id, score where higher is better).

    Args:
        session: An open session.
        terms: Single words; matched with stemming.
        phrases: Multi-word sequences (e.g. a topic identifier) matched as phrases.
        audiences: Document audiences the asker may see.
        kinds: Only documents of these kinds, when given.
        limit: How many chunks to return at most.
    """
    if not any(t.strip() for t in (*terms, *phrases)):
        return []
    dialect = session.get_bind().dialect.name
    kind_clause = "AND d.kind IN :kinds" if kinds else ""
    if dialect == "sqlite":
        # Audience and kind live in the FTS table itself: a join per match cost 2.5x.
        sql = (
            "SELECT chunk_id, -bm25(chunks_fts, 0.0, 3.0, 1.5, 1.0, 0.0, 0.0) AS score "
            "FROM chunks_fts WHERE chunks_fts MATCH :q AND audience IN :audiences "
            f"{kind_clause.replace('d.kind', 'kind')} ORDER BY score DESC LIMIT :limit"
        )
        query = _fts5_query(terms, phrases)
    else:
        # search_vector is stored (migrations 0007, 0008): ranking reads it instead of
        # parsing text. Weights {D, C, B, A}: text C, section B and title A in FTS5's 1:1.5:3;
        # ties go by chunk id (content-derived), so every store of one corpus ranks alike.
        sql = (
            "SELECT c.id, ts_rank('{0.1, 0.3333, 0.5, 1.0}', c.search_vector, query) AS score "
            "FROM chunks c JOIN documents d ON d.id = c.document_id, "
            "to_tsquery('english', :q) AS query "
            f"WHERE c.search_vector @@ query AND d.audience IN :audiences {kind_clause} "
            "ORDER BY score DESC, c.id LIMIT :limit"
        )
        words = [w for t in (*phrases, *terms) for w in t.split() if w.isalnum()]
        query = " | ".join(words)
        if not query:
            return []
    statement = text(sql).bindparams(bindparam("audiences", expanding=True))
    params: dict[str, object] = {"q": query, "audiences": list(audiences), "limit": limit}
    if kinds:
        statement = statement.bindparams(bindparam("kinds", expanding=True))
        params["kinds"] = list(kinds)
    rows = await session.execute(statement, params)
    return [(str(r[0]), float(r[1])) for r in rows]


async def document_frequencies(
    session: AsyncSession, terms: Sequence[str], *, audiences: Sequence[str] | None = None
) -> dict[str, int]:
    """How many chunks contain each term (stemmed as the lexical index stems it).

    With ``audiences``, only chunks of documents for those audiences count: word statistics
    drive whether a public answer is given, so they must not reflect member-only text.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        sql = "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH :q"
        if audiences is not None:
            sql += " AND audience IN :audiences"
    else:
        sql = (
            "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE "
            "c.search_vector @@ plainto_tsquery('english', :q)"
        )
        if audiences is not None:
            sql += " AND d.audience IN :audiences"
    statement = text(sql)
    params: dict[str, object] = {}
    if audiences is not None:
        statement = statement.bindparams(bindparam("audiences", expanding=True))
        params["audiences"] = list(audiences)
    result: dict[str, int] = {}
    for term in terms:
        if not term.strip():
            continue
        params["q"] = _fts5_query([term], []) if sqlite else term
        result[term] = int(await session.scalar(statement, params) or 0)
    return result


async def vector_count(session: AsyncSession) -> int:
    """How many distinct vectors the chunks use (copies of boilerplate share one)."""
    return int(await session.scalar(text("SELECT count(DISTINCT vector_id) FROM chunks")) or 0)


async def chunk_count(session: AsyncSession, *, audiences: Sequence[str] | None = None) -> int:
    """How many chunks the store holds (of documents for ``audiences``, when given)."""
    if audiences is None:
        return int(await session.scalar(text("SELECT count(*) FROM chunks")) or 0)
    statement = text(
        "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE d.audience IN :audiences"
    ).bindparams(bindparam("audiences", expanding=True))
    return int(await session.scalar(statement, {"audiences": list(audiences)}) or 0)


__all__ = ["chunk_count", "document_frequencies", "lexical_search", "vector_count"]
