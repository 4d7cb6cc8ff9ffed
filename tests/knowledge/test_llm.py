"""The generated answer: the real ChatOpenAI against the fake server on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from bot.config import LlmSettings
from knowledge.llm import (
    ChatModelConfigError,
    ChatModelError,
    GeneratedAnswer,
    build_chat_model,
    clean_answer,
    format_passages,
    write_answer,
)
from knowledge.types import Passage
from tests.fakes.openai_server import FakeOpenAIServer

KEY = "sk-test-chat-SECRET-0123456789"
TODAY = date(2026, 11, 28)
PASSAGES = (
    Passage(
        chunk_id="c1",
        document_id=1,
        title="Diagnostics for rare diseases",
        section="Scope",
        text="SMEs may apply for up to EUR 2 million. Details: https://ec.europa.eu/topic/rare-1",
        source="topics.json",
        record_id="HORIZON-HLTH-2027-01",
        status_today="open",
        deadlines=(date(2027, 4, 16),),
    ),
    Passage(
        chunk_id="c2",
        document_id=2,
        title="AI in clinical trials",
        text="This two-stage call funded consortia using AI for trial design.",
        source="topics.json",
        record_id="HORIZON-HLTH-2026-07",
        status_today="closed",
        deadlines=(date(2026, 2, 10), date(2026, 9, 15)),
    ),
    Passage(
        chunk_id="c3",
        document_id=3,
        title="BioRN Scout",
        section="Partnering",
        text="The cluster scouts partners for its members; write to scout@biorn.org.",
        source="services.txt",
        url="https://biorn.org/scout",
    ),
)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def chat_model(server: FakeOpenAIServer) -> BaseChatModel:
    model = build_chat_model(
        LlmSettings(
            provider="openai",
            model="fake-model",
            base_url=server.base_url,
            api_key=SecretStr(KEY),
            timeout_s=0.5,
        )
    )
    assert model is not None
    return model


async def ask(chat_model: BaseChatModel, question: str = "Can my SME apply?") -> GeneratedAnswer:
    return await write_answer(chat_model, question=question, passages=PASSAGES, today=TODAY)


# -- write_answer against the fake server ------------------------------------------------------


async def test_answer_with_valid_citations(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    server.enqueue_chat("Yes, SMEs can get up to EUR 2 million [1]. The AI call is closed [2].")

    answer = await ask(chat_model)

    assert answer == GeneratedAnswer(
        text="Yes, SMEs can get up to EUR 2 million [1]. The AI call is closed [2].", used=(1, 2)
    )


async def test_invented_citation_numbers_are_dropped(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    server.enqueue_chat("You can apply [7]. Partnering help exists [3, 9].")

    answer = await ask(chat_model)

    assert answer.text == "You can apply. Partnering help exists [3]."
    assert answer.used == (3,)


async def test_only_invented_citations_leave_nothing_used(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    server.enqueue_chat("Apply before Friday [7].")

    answer = await ask(chat_model)

    assert answer.used == ()
    assert "[7]" not in answer.text


async def test_answer_without_citations_is_not_used(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    server.enqueue_chat("The passages do not say.")

    assert (await ask(chat_model)).used == ()


async def test_outside_links_are_stripped_and_passage_links_kept(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    server.enqueue_chat(
        "Apply at https://evil.example.com/login?next=1 now [1]. "
        "Official page: https://ec.europa.eu/topic/rare-1. "
        "See [the scout page](https://biorn.org/scout) or [this](http://phish.io/x) [3]. "
        "Mail scout@biorn.org, not help@phish.io or phish.io/form."
    )

    answer = await ask(chat_model)

    assert "evil.example.com" not in answer.text
    assert "phish" not in answer.text
    assert "https://ec.europa.eu/topic/rare-1." in answer.text
    assert "[the scout page](https://biorn.org/scout)" in answer.text
    assert "scout@biorn.org" in answer.text
    assert "or this [3]" in answer.text
    assert answer.used == (1, 3)


async def test_request_carries_passages_and_date_and_no_log_holds_the_key(
    server: FakeOpenAIServer, chat_model: BaseChatModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.enqueue_chat("Yes [1].")

    await ask(chat_model, question="Is the AI call still open?")

    [request] = server.requests_to("/v1/chat/completions")
    system, user = request.body["messages"]
    assert system["role"] == "system"
    assert "2026-11-28" in system["content"]
    assert "status today: closed" in system["content"]
    assert (
        "[1] Diagnostics for rare diseases — Scope (record HORIZON-HLTH-2027-01" in user["content"]
    )
    assert "status today: closed; deadlines 2026-02-10, 2026-09-15)" in user["content"]
    assert "This two-stage call funded consortia" in user["content"]
    assert "Question: Is the AI call still open?" in user["content"]
    assert request.body["model"] == "fake-model"
    assert request.body["temperature"] == 0.0
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert caplog.records, "expected the HTTP client to log at DEBUG"
    assert KEY not in caplog.text
    assert KEY not in str(request.body)


async def test_server_error_raises_chat_model_error(
    server: FakeOpenAIServer, chat_model: BaseChatModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.respond_next(500, times=2)

    with pytest.raises(ChatModelError, match="HTTP 500") as info:
        await ask(chat_model)

    assert len(server.requests) == 2  # one retry
    assert KEY not in str(info.value)
    assert KEY not in caplog.text


async def test_unauthorised_raises_chat_model_error(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    server.respond_next(401)

    with pytest.raises(ChatModelError, match="HTTP 401"):
        await ask(chat_model)


async def test_timeout_raises_chat_model_error(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    server.stall_next(seconds=5.0, times=2)

    with pytest.raises(ChatModelError, match="timeout"):
        await ask(chat_model)


async def test_unreachable_server_raises_chat_model_error() -> None:
    with FakeOpenAIServer() as stopped:
        base_url = stopped.base_url
    model = build_chat_model(
        LlmSettings(provider="openai", base_url=base_url, api_key=SecretStr(KEY), timeout_s=0.5)
    )
    assert model is not None

    with pytest.raises(ChatModelError, match="unreachable"):
        await ask(model)


async def test_malformed_answer_raises_chat_model_error(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    server.respond_next(200, body={"id": "x", "object": "chat.completion"})

    with pytest.raises(ChatModelError):
        await ask(chat_model)


async def test_no_passages_means_no_call(
    server: FakeOpenAIServer, chat_model: BaseChatModel
) -> None:
    answer = await write_answer(chat_model, question="q", passages=(), today=TODAY)

    assert answer == GeneratedAnswer(text="", used=())
    assert server.requests == []


# -- build_chat_model ------------------------------------------------------------------------


def test_provider_none_builds_nothing() -> None:
    assert build_chat_model(LlmSettings()) is None


def test_openai_without_base_url_needs_a_key() -> None:
    with pytest.raises(ChatModelConfigError, match="CLUSTERBOT_LLM__API_KEY"):
        build_chat_model(LlmSettings(provider="openai"))


def test_openai_defaults_to_the_public_api_with_explicit_settings() -> None:
    model = build_chat_model(
        LlmSettings(provider="openai", api_key=SecretStr(KEY), timeout_s=7, temperature=0.3)
    )

    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "https://api.openai.com/v1"
    assert model.request_timeout == 7
    assert model.max_retries == 1
    assert model.temperature == 0.3
    assert KEY not in repr(model)


async def test_keyless_local_server_is_accepted(server: FakeOpenAIServer) -> None:
    model = build_chat_model(LlmSettings(provider="openai", base_url=server.base_url))
    assert model is not None
    server.enqueue_chat("Fine [2].")

    assert (await ask(model)).used == (2,)


def test_ollama_uses_base_url_timeout_and_key() -> None:
    model = build_chat_model(
        LlmSettings(
            provider="ollama",
            model="llama3.2",
            base_url="http://127.0.0.1:11434",
            api_key=SecretStr(KEY),
            timeout_s=12,
        )
    )

    assert isinstance(model, ChatOllama)
    assert model.base_url == "http://127.0.0.1:11434"
    assert model.client_kwargs == {"timeout": 12, "headers": {"Authorization": f"Bearer {KEY}"}}


def test_ollama_defaults_to_loopback() -> None:
    model = build_chat_model(LlmSettings(provider="ollama", model="llama3.2"))

    assert isinstance(model, ChatOllama)
    assert model.base_url == "http://127.0.0.1:11434"


# -- prompt and cleaning ---------------------------------------------------------------------


def test_format_passages_numbers_and_describes_each() -> None:
    text = format_passages(PASSAGES)

    assert text.splitlines()[0] == (
        "[1] Diagnostics for rare diseases — Scope "
        "(record HORIZON-HLTH-2027-01; status today: open; deadline 2027-04-16)"
    )
    assert "\n\n[3] BioRN Scout — Partnering\nThe cluster scouts" in text


def test_forthcoming_passage_says_when_it_opens() -> None:
    passage = Passage(
        chunk_id="c",
        document_id=1,
        title="T",
        text="x",
        source="s",
        status_today="forthcoming",
        opening_date=date(2027, 1, 15),
    )

    assert "(status today: forthcoming; opens 2027-01-15)" in format_passages([passage])


@pytest.mark.parametrize(
    ("raw", "text", "used"),
    [
        ("A [1-3] and B [2; 5].", "A [1][2][3] and B [2].", (1, 2, 3)),
        ("See [Passage 2] and [source 3].", "See [2] and [3].", (2, 3)),
        ("Nothing [0] here [4].", "Nothing here.", ()),
        ("Read www.evil.com today [1].", "Read today [1].", (1,)),
        ("Node.js, e.g. file.pdf and v2.0 [1]", "Node.js, e.g. file.pdf and v2.0 [1]", (1,)),
        ("Link (https://bad.example/x) [1].", "Link [1].", (1,)),
    ],
)
def test_clean_answer(raw: str, text: str, used: tuple[int, ...]) -> None:
    assert clean_answer(raw, PASSAGES) == (text, used)
