"""Wiring: build every service once from Settings, and close them again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from chromadb.api import ClientAPI
from langchain_core.language_models import BaseChatModel
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts import AlertPlanner
from bot.assistant import Assistant
from bot.config import Settings
from bot.errors import ConfigurationError
from bot.router import Router
from ingest.chunk import Chunker
from ingest.loaders import Limits
from ingest.pipeline import Ingester, reconcile
from knowledge.answer import Answerer
from knowledge.clock import Clock, SystemClock
from knowledge.embeddings import TextEmbedder, build_embedder
from knowledge.llm import build_chat_model
from knowledge.match import Matcher
from knowledge.retrieve import Retriever
from knowledge.vectors import (
    VectorIndex,
    VectorStoreError,
    persistent_client,
    server_client,
    server_url,
)
from storage import create_engine, session_factory, upgrade
from storage.engine import SessionFactory
from storage.questions import get_meta, set_meta
from storage.search import chunk_count, vector_count

logger = logging.getLogger(__name__)

DEMO_CORPUS = Path(__file__).resolve().parent / "demo"


@dataclass
class App:
    """The assembled assistant: storage, vectors, retrieval, answering, ingestion."""

    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    index: VectorIndex
    retriever: Retriever
    answerer: Answerer
    ingester: Ingester
    router: Router
    assistant: Assistant
    matcher: Matcher
    clock: Clock
    http: httpx.AsyncClient

    def console_assistant(self, audiences: tuple[str, ...]) -> Assistant:
        """The assistant for the terminal, answering as someone who may see ``audiences``."""
        return Assistant(
            router=self.router,
            answerer=self.answerer,
            sessions=self.sessions,
            clock=self.clock,
            staff=self.settings.staff,
            admins=self.settings.admins,
            console_audiences=audiences,
            alerts=self.settings.alerts,
            timezone=self.settings.timezone,
            matcher=self.matcher,
            index=self.index,
        )

    def planner(self) -> AlertPlanner:
        """The alert planner over this app's store, matcher and settings."""
        return AlertPlanner(
            sessions=self.sessions,
            matcher=self.matcher,
            clock=self.clock,
            settings=self.settings.alerts,
            timezone=self.settings.timezone,
        )

    async def is_empty(self) -> bool:
        """Whether nothing has been ingested yet."""
        async with self.sessions() as session:
            return await chunk_count(session) == 0

    async def close(self) -> None:
        """Release connections."""
        if self.settings.vectors.mode == "server":
            await asyncio.to_thread(self.index.close)
        await self.http.aclose()
        await self.engine.dispose()


def vector_location(settings: Settings) -> str:
    """Where the vectors live, for messages and health reports (never the token)."""
    v = settings.vectors
    if v.mode == "server":
        return f"chroma server {server_url(host=v.host, port=v.port, ssl=v.ssl)}"
    return f"embedded chroma in {settings.vector_dir}"


def _vector_client(settings: Settings) -> ClientAPI:
    """The Chroma client the settings ask for: embedded (default) or a ``chroma run`` server.

    Raises:
        ConfigurationError: the server is refused or unreachable; names the settings to check.
    """
    vectors = settings.vectors
    if vectors.mode == "embedded":
        return persistent_client(settings.vector_dir)
    try:
        return server_client(
            host=vectors.host,
            port=vectors.port,
            ssl=vectors.ssl,
            token=vectors.token.get_secret_value() if vectors.token else None,
            allow_public=vectors.allow_public,
        )
    except VectorStoreError as exc:
        hint = (
            " Set CLUSTERBOT_VECTORS__ALLOW_PUBLIC=true only behind TLS and an auth proxy."
            if "public address" in str(exc)
            else ""
        )
        raise ConfigurationError(
            f"vector store (CLUSTERBOT_VECTORS__HOST, CLUSTERBOT_VECTORS__PORT): {exc}.{hint}"
        ) from exc


async def _sync_vectors(sessions: SessionFactory, index: VectorIndex) -> None:
    """Re-index when the embedding model changed or the store lags behind the database."""
    async with sessions() as session:
        previous = await get_meta(session, "embedding_model")
        vectors = await vector_count(session)
    if previous != index.embedder.model_id or await asyncio.to_thread(index.count) != vectors:
        if previous and previous != index.embedder.model_id:
            logger.info("embedding model changed: re-indexing %d vectors", vectors)
        await reconcile(sessions, index)
        await asyncio.to_thread(index.drop_other_models)
        async with sessions.begin() as session:
            await set_meta(session, "embedding_model", index.embedder.model_id)


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    embedder: TextEmbedder | None = None,
    chat_model: BaseChatModel | None = None,
    http: httpx.AsyncClient | None = None,
    progress: Callable[[str], None] | None = None,
) -> App:
    """Build the assistant; the database is migrated on first use."""
    engine = create_engine(settings.resolved_database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    embedder = embedder or build_embedder(settings.embeddings)
    try:
        index = await asyncio.to_thread(
            lambda: VectorIndex(client=_vector_client(settings), embedder=embedder)
        )
    except ConfigurationError:
        await engine.dispose()
        raise
    await _sync_vectors(sessions, index)
    clock = clock or SystemClock(settings.timezone)
    retriever = Retriever(sessions=sessions, index=index, candidates=settings.answer.candidates)
    answerer = Answerer(
        retriever=retriever,
        sessions=sessions,
        clock=clock,
        top_k=settings.answer.top_k,
        min_confidence=settings.answer.min_confidence,
        chat_model=chat_model or build_chat_model(settings.llm),
        link_domains=settings.answer.link_domains,
    )
    http = http or httpx.AsyncClient(timeout=30.0)
    ingester = Ingester(
        sessions=sessions,
        index=index,
        chunker=Chunker(
            chunk_chars=settings.ingest.chunk_chars, overlap=settings.ingest.chunk_overlap
        ),
        limits=Limits(
            max_file_bytes=settings.ingest.max_file_bytes,
            max_unpacked_bytes=settings.ingest.max_unpacked_bytes,
        ),
        http=http,
        progress=progress,
    )
    router = Router()
    matcher = Matcher(sessions=sessions, index=index)
    assistant = Assistant(
        router=router,
        answerer=answerer,
        sessions=sessions,
        clock=clock,
        staff=settings.staff,
        admins=settings.admins,
        alerts=settings.alerts,
        timezone=settings.timezone,
        matcher=matcher,
        index=index,
    )
    return App(
        settings=settings,
        engine=engine,
        sessions=sessions,
        index=index,
        retriever=retriever,
        answerer=answerer,
        ingester=ingester,
        router=router,
        assistant=assistant,
        matcher=matcher,
        clock=clock,
        http=http,
    )


__all__ = ["DEMO_CORPUS", "App", "build_app", "vector_location"]
