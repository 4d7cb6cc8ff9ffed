"""Settings: read once from the environment (and a ``.env`` file) by the CLI and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbeddingSettings(_Section):
    """Which embedding model turns text into vectors."""

    backend: Literal["minilm-int8", "onnx", "sentence-transformers", "openai"] = Field(
        default="minilm-int8",
        description=(
            "minilm-int8: all-MiniLM-L6-v2 int8 ONNX shipped as a package (offline default); "
            "onnx: a local folder with model.onnx and tokenizer.json; sentence-transformers: "
            "a local model folder or name (needs the optional extra); openai: an "
            "OpenAI-compatible /embeddings API"
        ),
    )
    model: str | None = Field(
        default=None,
        description=(
            "Folder (onnx, sentence-transformers) or model name (openai, sentence-transformers)"
        ),
    )
    sha256: str | None = Field(
        default=None, description="Expected sha256 of model.onnx for the onnx backend"
    )
    base_url: str | None = Field(default=None, description="Base URL of the embeddings API")
    api_key: SecretStr | None = Field(default=None, description="API key of the embeddings API")
    batch_size: int = Field(default=16, ge=1, le=1024, description="Texts embedded per batch")
    query_prefix: str = Field(default="", description="Prefix added to queries (e5: 'query: ')")
    document_prefix: str = Field(
        default="", description="Prefix added to documents (e5: 'passage: ')"
    )


class LlmSettings(_Section):
    """An optional chat model that writes answers from the retrieved passages."""

    provider: Literal["none", "openai", "ollama"] = Field(
        default="none", description="none keeps answers extractive and offline"
    )
    model: str = Field(default="gpt-4o-mini", description="Chat model name")
    base_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL (ending in /v1) or Ollama URL"
    )
    api_key: SecretStr | None = Field(default=None, description="API key for the chat model")
    timeout_s: float = Field(default=30.0, gt=0, description="Timeout of one chat-model call")
    temperature: float = Field(default=0.0, ge=0, le=2, description="Sampling temperature")


class AnswerSettings(_Section):
    """How answers are retrieved, cited and when the bot declines."""

    top_k: int = Field(default=5, ge=1, le=20, description="Passages cited at most")
    candidates: int = Field(
        default=40, ge=5, le=500, description="Candidates taken from each retriever before fusion"
    )
    min_confidence: float = Field(
        default=0.5, ge=0, le=1, description="Below this combined confidence the bot abstains"
    )


class IngestSettings(_Section):
    """Limits that protect ingestion from oversized or hostile input."""

    max_file_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="Largest file accepted, in bytes"
    )
    max_unpacked_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="Largest decompressed size of a gzip or DOCX file, in bytes",
    )
    chunk_chars: int = Field(default=900, ge=200, le=8000, description="Target chunk size")
    chunk_overlap: int = Field(default=120, ge=0, le=2000, description="Chunk overlap")


class Settings(BaseSettings):
    """All of clusterbot's settings; environment variables are prefixed ``CLUSTERBOT_``.

    Nested sections use a double underscore, e.g. ``CLUSTERBOT_LLM__PROVIDER=openai``.
    """

    model_config = SettingsConfigDict(
        env_prefix="CLUSTERBOT_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        frozen=True,
    )

    data_dir: Path = Field(
        default=Path(".clusterbot"), description="Where the database and vectors live"
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default sqlite+aiosqlite in the data directory",
    )
    timezone: str = Field(default="Europe/Berlin", description="The cluster's timezone")
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'clusterbot.sqlite3').resolve()}"

    @property
    def vector_dir(self) -> Path:
        """Where the embedded Chroma store keeps its files."""
        return self.data_dir / "chroma"


__all__ = [
    "AnswerSettings",
    "EmbeddingSettings",
    "IngestSettings",
    "LlmSettings",
    "Settings",
]
