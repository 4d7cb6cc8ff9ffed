"""Answer a question from the retrieved passages, with numbered citations, or decline.

The default answer is extractive and offline: for each of the best sources, the sentences
that share the most meaningful words with the question, under a line saying where the
opportunity stands today. With a chat model configured, the model writes the answer from the
same numbered passages and may cite only those. Either way, a passage about a call that has
closed is introduced as closed, and recorded status lines ("Status: Open") are never quoted
as they may be stale. And either way, the answer and its source titles carry only links the
allow-list of :mod:`knowledge.links` permits, whatever the documents or the model wrote.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol, TypeVar

from langchain_core.language_models import BaseChatModel

from knowledge.abstain import AbstentionModel, signals
from knowledge.clock import Clock
from knowledge.dates import describe
from knowledge.links import DEFAULT_DOMAINS, allowed_hosts, strip_links
from knowledge.llm import ChatModelError, write_answer
from knowledge.retrieve import Retriever
from knowledge.text import content_terms, sentences, stem, words
from knowledge.types import Answer, Citation, Passage
from storage.engine import SessionFactory
from storage.questions import record_question

logger = logging.getLogger(__name__)

DECLINE = (
    "I don't have a reliable answer to that in the documents I know. "
    "You can ask a person at the cluster, or rephrase with more detail "
    "(a programme, a topic identifier or a therapeutic area)."
)
# Markdown bold markers in source text (**bold**) read as noise in a chat.
_EMPHASIS = re.compile(r"\*\*(\S(?:[^*]*?\S)?)\*\*")
_STATUS_LINE = re.compile(r"\b(status|open for submission|forthcoming|closed)\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerOptions:
    """Per-question choices: who asks, what they may see, on which day."""

    audiences: tuple[str, ...] = ("public",)
    kinds: tuple[str, ...] | None = None
    channel: str = "console"
    user_ref: str | None = None
    record: bool = True


def _best_sentences(passage: Passage, question_stems: set[str], limit: int = 2) -> str:
    """The sentences of a passage that share most meaningful words with the question."""
    candidates = []
    for position, sentence in enumerate(sentences(passage.text)):
        if passage.status_today and _STATUS_LINE.search(sentence) and len(sentence) < 160:
            continue  # a recorded status may be stale; the date line says it instead
        overlap = len({stem(w) for w in words(sentence)} & question_stems)
        candidates.append((overlap, -position, sentence))
    if not candidates:
        return ""
    chosen = sorted(candidates, reverse=True)[:limit]
    chosen.sort(key=lambda c: -c[1])  # back to reading order
    text = _EMPHASIS.sub(r"\1", " ".join(s for _o, _p, s in chosen))
    return text if len(text) <= 600 else text[:597].rsplit(" ", 1)[0] + "…"


class _Citable(Protocol):
    @property
    def record_id(self) -> str | None: ...
    @property
    def document_id(self) -> int: ...
    @property
    def chunk_id(self) -> str: ...


C = TypeVar("C", bound=_Citable)


def dedupe(passages: Sequence[C], top_k: int, *, per_document: int = 3) -> list[C]:
    """The best passage per opportunity, and up to ``per_document`` of other documents.

    The same opportunity may come from several sources (a snapshot and a subset of it): it
    is cited once. A long guide or report may be cited for several of its passages.
    """
    seen: set[object] = set()
    per_doc: dict[int, int] = {}
    result = []
    for passage in passages:
        key: object = passage.record_id or passage.chunk_id
        if key in seen or per_doc.get(passage.document_id, 0) >= per_document:
            continue
        if passage.record_id is not None and passage.document_id in per_doc:
            continue
        seen.add(key)
        per_doc[passage.document_id] = per_doc.get(passage.document_id, 0) + 1
        result.append(passage)
        if len(result) == top_k:
            break
    return result


def _heading(passage: Passage, today: date) -> str:
    head = passage.title
    if passage.record_id and passage.record_id not in head:
        head += f" ({passage.record_id})"
    if passage.status_today is not None and (passage.deadlines or passage.opening_date):
        facts = describe(
            today,
            kind=passage.kind,
            opening_date=passage.opening_date,
            deadlines=passage.deadlines,
            two_stage=passage.two_stage,
        )
        head += f" — {facts.sentence}"
    elif passage.section:
        head += f", {passage.section}"
    return head


def extractive_text(
    question: str,
    citations: Sequence[Citation],
    today: date,
    *,
    domains: Iterable[str] = DEFAULT_DOMAINS,
) -> str:
    """The offline answer: per source, where it stands today and its best sentences.

    Quoted sentences keep only links the answer may carry (:mod:`knowledge.links`): a
    document cannot put a phishing address in the bot's mouth by being quoted.
    """
    question_stems = {stem(t) for t in content_terms(question)}
    lines = []
    for citation in citations[:3]:
        body = _best_sentences(citation.passage, question_stems)
        lines.append(f"[{citation.n}] {_heading(citation.passage, today)}\n{body}".rstrip())
    hosts = allowed_hosts((c.passage for c in citations[:3]), domains)
    return strip_links("\n\n".join(lines), hosts, quoted=True)


def user_reference(channel: str, user: str | None) -> str | None:
    """A stable pseudonym for a user, so questions can be grouped without storing who asked."""
    if user is None:
        return None
    return hashlib.sha256(f"{channel}:{user}".encode()).hexdigest()[:16]


class Answerer:
    """Turns a question into an :class:`Answer`, and records it."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        sessions: SessionFactory,
        clock: Clock,
        top_k: int = 5,
        min_confidence: float = 0.5,
        model: AbstentionModel | None = None,
        chat_model: BaseChatModel | None = None,
        link_domains: Iterable[str] = DEFAULT_DOMAINS,
    ) -> None:
        self._retriever = retriever
        self._domains = tuple(link_domains)
        self._sessions = sessions
        self._clock = clock
        self._top_k = top_k
        self._min_confidence = min_confidence
        self._model = model or AbstentionModel()
        self._chat_model = chat_model

    async def answer(self, question: str, options: AnswerOptions | None = None) -> Answer:
        """Answer from the sources the asker may see, or decline plainly."""
        options = options or AnswerOptions()
        today = self._clock.today()
        question = question.strip()
        retrieval = await self._retriever.retrieve(
            question,
            today=today,
            audiences=options.audiences,
            kinds=options.kinds,
            limit=self._top_k * 3,
        )
        found = signals(retrieval)
        confidence = self._model.confidence(found)
        chosen = dedupe(retrieval.passages, self._top_k)
        if not question or not chosen or confidence < self._min_confidence:
            result = Answer(question, DECLINE, True, (), confidence, found)
        else:
            citations = tuple(
                Citation(n=n, passage=p, text=p.text) for n, p in enumerate(chosen, start=1)
            )
            result = await self._compose(question, citations, today, confidence, found)
            result = replace(result, citations=self._safe_titles(result.citations))
        if options.record:
            question_id = await self._record(result, options, today)
            result = replace(result, question_id=question_id)
        return result

    async def _compose(
        self,
        question: str,
        citations: tuple[Citation, ...],
        today: date,
        confidence: float,
        found: dict[str, float],
    ) -> Answer:
        if self._chat_model is None:
            return Answer(
                question,
                extractive_text(question, citations, today, domains=self._domains),
                False,
                citations,
                confidence,
                found,
            )
        try:
            generated = await write_answer(
                self._chat_model,
                question=question,
                passages=[c.passage for c in citations],
                today=today,
                domains=self._domains,
            )
        except ChatModelError as exc:
            logger.warning("chat model failed, answering extractively: %s", exc)
            return Answer(
                question,
                extractive_text(question, citations, today, domains=self._domains),
                False,
                citations,
                confidence,
                found,
            )
        if not generated.used:
            return Answer(question, DECLINE, True, (), confidence, found)
        used = tuple(c for c in citations if c.n in set(generated.used))
        # Links may point only to the sources actually cited, or to the cluster's domains.
        text = strip_links(generated.text, allowed_hosts((c.passage for c in used), self._domains))
        return Answer(question, text, False, used, confidence, found)

    def _safe_titles(self, citations: tuple[Citation, ...]) -> tuple[Citation, ...]:
        """Titles and sections are shown under the answer: their links go like any other."""
        hosts = allowed_hosts((c.passage for c in citations), self._domains)

        def safe(passage: Passage) -> Passage:
            section = passage.section and strip_links(passage.section, hosts, quoted=True)
            return replace(
                passage, title=strip_links(passage.title, hosts, quoted=True), section=section
            )

        return tuple(replace(c, passage=safe(c.passage)) for c in citations)

    async def _record(self, answer: Answer, options: AnswerOptions, today: date) -> int:
        async with self._sessions.begin() as session:
            row = await record_question(
                session,
                channel=options.channel,
                user_ref=options.user_ref,
                text=answer.question,
                answer=answer.text,
                abstained=answer.abstained,
                confidence=answer.confidence,
                citations=[
                    {"n": c.n, "chunk_id": c.passage.chunk_id, "record_id": c.passage.record_id}
                    for c in answer.citations
                ],
                asked_for=today,
            )
            return row.id


__all__ = ["DECLINE", "AnswerOptions", "Answerer", "dedupe", "extractive_text", "user_reference"]
