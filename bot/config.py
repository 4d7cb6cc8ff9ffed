"""Settings: read once from the environment (and a ``.env`` file) by the CLI and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    link_domains: list[str] = Field(
        default_factory=lambda: ["europa.eu"],
        description=(
            "Domains (and their subdomains) answers may link to, besides each cited source's "
            "own URL; any other link a document or chat model slips in is removed"
        ),
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


class DeliverySettings(_Section):
    """The outbox worker: platform limits it keeps to, retries, leases."""

    telegram_per_second: float = Field(
        default=30.0, gt=0, description="Telegram messages per second, all chats together"
    )
    telegram_chat_interval_s: float = Field(
        default=1.0, ge=0, description="Seconds between two messages to one Telegram chat"
    )
    telegram_group_per_minute: int = Field(
        default=20, ge=1, description="Messages per minute to one Telegram group"
    )
    slack_per_second: float = Field(
        default=20.0, gt=0, description="Slack messages per second, all channels together"
    )
    slack_channel_interval_s: float = Field(
        default=1.0, ge=0, description="Seconds between two messages to one Slack channel"
    )
    max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a message is marked failed"
    )
    backoff_base_s: float = Field(
        default=2.0, gt=0, description="First retry delay; doubles per attempt, with jitter"
    )
    backoff_max_s: float = Field(default=900.0, gt=0, description="Longest retry delay")
    lease_s: float = Field(
        default=120.0,
        gt=0,
        description=(
            "How long the messages of a worker that stopped (crashed) stay claimed before "
            "others may take them; a running worker renews its claims every quarter of this"
        ),
    )
    batch: int = Field(default=200, ge=1, le=10000, description="Messages claimed at once")
    idle_poll_s: float = Field(
        default=1.0, gt=0, description="How often an idle worker looks for due messages"
    )
    shared_limits: bool = Field(
        default=False,
        description=(
            "Keep the rate limits and 429 pauses in the database, shared by every delivery "
            "worker: turn on when several deliver processes send with one bot token"
        ),
    )
    send_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="Seconds deliver waits for one send (default: 10 for Telegram, 30 for Slack)",
    )


class AlertSettings(_Section):
    """When matches become messages: thresholds, quiet hours, caps, reminders."""

    instant_score: float = Field(
        default=0.6, ge=0, le=1, description="Matches scoring at least this go out at once"
    )
    min_score: float = Field(
        default=0.3, ge=0, le=1, description="Matches below this are not sent at all"
    )
    quiet_hours: str = Field(
        default="21:00-08:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
        description="No message in this window of the person's local time (HH:MM-HH:MM)",
    )
    weekly_cap: int = Field(
        default=10, ge=1, description="Most alert messages one person gets in 7 days"
    )
    reminder_days: list[int] = Field(
        default_factory=lambda: [14, 7, 2],
        description="Reminders this many days before each deadline of a saved call",
    )
    digest_hour: int = Field(default=9, ge=0, le=23, description="Local hour digests go out")
    digest_weekday: int = Field(
        default=0, ge=0, le=6, description="Weekday of the weekly digest (0 is Monday)"
    )
    plan_every_s: float = Field(
        default=60.0,
        gt=0,
        description="How often serve/deliver look for new or changed opportunities and digests",
    )


class VectorSettings(_Section):
    """Where the vectors live: an embedded Chroma store, or a ``chroma run`` server."""

    mode: Literal["embedded", "server"] = Field(
        default="embedded",
        description=(
            "embedded: a Chroma store in the data directory (one process only); server: a "
            "'chroma run' server shared by several bot and delivery processes"
        ),
    )
    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Host of the Chroma server (server mode); keep it loopback or private",
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port of the Chroma server")
    ssl: bool = Field(default=False, description="Talk HTTPS to the server (or its proxy)")
    token: SecretStr | None = Field(
        default=None,
        description=(
            "Sent as X-Chroma-Token on every request. 'chroma run' does not check it itself: "
            "an auth proxy in front of the server must (see docs/deploy.md)"
        ),
    )
    allow_public: bool = Field(
        default=False,
        description=(
            "Allow a host that resolves to a public address; off, such a host is refused "
            "(Chroma's HTTP server has an open advisory, CVE-2026-45829)"
        ),
    )


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
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    vectors: VectorSettings = Field(default_factory=VectorSettings)

    # Channels. These names are a stable interface (DESIGN.md): staging servers and test
    # fakes stand in for the real services through the two API URLs.
    telegram_token: SecretStr | None = Field(
        default=None, description="Telegram bot token from @BotFather; unset: no Telegram"
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Telegram Bot API base URL, ending in /bot (the token is appended)",
    )
    telegram_mode: Literal["polling", "webhook"] = Field(
        default="polling", description="polling (default) or webhook (needs a public URL)"
    )
    telegram_webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL Telegram posts updates to (webhook mode)"
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (webhook mode)",
    )
    telegram_concurrent_updates: int = Field(
        default=16, ge=1, le=256, description="Telegram updates handled at the same time"
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, description="Slack bot token (xoxb-...); unset: no Slack"
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="Slack app-level token (xapp-...) for Socket Mode"
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Slack signing secret, checked on every HTTP request"
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL"
    )
    slack_mode: Literal["socket", "http"] = Field(
        default="socket", description="socket (Socket Mode, default) or http (Events API)"
    )
    http_host: str = Field(
        default="127.0.0.1",
        description="Address of the HTTP server (health check, Telegram webhook, Slack events)",
    )
    http_port: int = Field(default=8080, ge=0, le=65535, description="Port of the HTTP server")
    staff: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="People with the staff role, comma-separated: telegram:123,slack:U0AB",
    )
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="People with the admin role, same form as staff"
    )

    @field_validator("staff", "admins", mode="before")
    @classmethod
    def _split_people(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("staff", "admins")
    @classmethod
    def _check_people(cls, value: list[str]) -> list[str]:
        for item in value:
            channel, sep, user = item.partition(":")
            if not sep or not user or channel not in {"telegram", "slack", "console"}:
                raise ValueError(
                    f"{item!r} is not a person like telegram:123456 or slack:U0123ABC"
                )
        return value

    @property
    def channels(self) -> tuple[str, ...]:
        """The chat channels configured with a token."""
        found = []
        if self.telegram_token is not None:
            found.append("telegram")
        if self.slack_bot_token is not None:
            found.append("slack")
        return tuple(found)

    def secrets(self) -> list[str]:
        """Every secret value set, so logs can redact them."""
        values = [
            self.telegram_token,
            self.telegram_webhook_secret,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.llm.api_key,
            self.embeddings.api_key,
            self.vectors.token,
        ]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'clusterbot.sqlite3').resolve()}"

    @property
    def vector_dir(self) -> Path:
        """Where the embedded Chroma store keeps its files (embedded mode)."""
        return self.data_dir / "chroma"


__all__ = [
    "AlertSettings",
    "AnswerSettings",
    "DeliverySettings",
    "EmbeddingSettings",
    "IngestSettings",
    "LlmSettings",
    "Settings",
    "VectorSettings",
]
