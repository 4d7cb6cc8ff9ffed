"""The optional chat model writes the answer from the same passages, through the real
ChatOpenAI client against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import LlmSettings
from knowledge.answer import DECLINE
from knowledge.llm import build_chat_model
from tests.factories import make_app
from tests.fakes.openai_server import FakeOpenAIServer

QUESTION = "What does the Launchpad incubator give start-ups?"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def _model(server: FakeOpenAIServer):
    return build_chat_model(
        LlmSettings(
            provider="openai", base_url=server.base_url, api_key="sk-test-secret", timeout_s=2
        )
    )


async def test_generated_answer_keeps_only_used_citations(
    demo_dir: Path, server: FakeOpenAIServer
) -> None:
    server.enqueue_chat(
        "Launchpad gives a stipend and free lab space [1]. See https://evil.example/x too [9]."
    )
    app = await make_app(demo_dir, chat_model=_model(server))
    try:
        answer = await app.answerer.answer(QUESTION)
    finally:
        await app.close()
    assert not answer.abstained
    assert [c.n for c in answer.citations] == [1]
    assert "evil.example" not in answer.text
    assert "[9]" not in answer.text
    body = server.requests_to("/v1/chat/completions")[0].body
    prompt = json.dumps(body)
    assert "2026-11-28" in prompt
    assert "[1]" in prompt
    assert "sk-test-secret" not in prompt


async def test_answer_without_valid_citation_is_declined(
    demo_dir: Path, server: FakeOpenAIServer
) -> None:
    server.enqueue_chat("I think it is great.")
    app = await make_app(demo_dir, chat_model=_model(server))
    try:
        answer = await app.answerer.answer(QUESTION)
    finally:
        await app.close()
    assert answer.abstained
    assert answer.text == DECLINE


async def test_chat_model_outage_falls_back_to_extractive(
    demo_dir: Path, server: FakeOpenAIServer, caplog
) -> None:
    server.respond_next(500, times=5)
    app = await make_app(demo_dir, chat_model=_model(server))
    try:
        answer = await app.answerer.answer(QUESTION)
    finally:
        await app.close()
    assert not answer.abstained
    assert answer.text.startswith("[1]")
    assert "sk-test-secret" not in caplog.text


async def test_unanswerable_question_never_reaches_the_chat_model(
    demo_dir: Path, server: FakeOpenAIServer
) -> None:
    app = await make_app(demo_dir, chat_model=_model(server))
    try:
        answer = await app.answerer.answer(
            "What is the exchange rate of the Icelandic krona to the yen?"
        )
    finally:
        await app.close()
    assert answer.abstained
    assert server.requests_to("/v1/chat/completions") == []
