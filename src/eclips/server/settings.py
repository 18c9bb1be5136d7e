"""One settings object, read once at start from ``ECLIPS_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob has a default that works on a laptop."""

    model_config = SettingsConfigDict(env_prefix="ECLIPS_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./eclips.db"
    host: str = "127.0.0.1"
    port: int = 8080

    # Requests per API key, in ``limits`` notation ("600/minute", "20/second"); empty turns
    # rate limiting off. /v1/health is never limited.
    rate_limit: str = "600/minute"

    # Request bodies over this get 413; a 500-row batch of ordinary rows fits easily.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    worker_concurrency: int = Field(default=32, ge=1, le=10_000)
    # Batch rows may fill at most this share of a worker's slots; the rest stay free for
    # interactive runs (POST /v1/run), so a big batch never starves them.
    batch_share: float = Field(default=0.75, gt=0, le=1)
    lease_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    poll_interval_seconds: float = Field(default=1.0, gt=0)
    rescue_interval_seconds: float = Field(default=5.0, gt=0)
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)

    stream_update_seconds: float = Field(default=2.0, gt=0)
    stream_ping_seconds: float = Field(default=15.0, gt=0)
    stream_timeout_seconds: float = Field(default=30.0, gt=0)
    hub_poll_seconds: float = Field(default=0.5, gt=0)

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_seconds: float = 30.0

    # Extra agent classes to register, as "package.module:ClassName" (tests, benchmarks).
    agent_classes: list[str] = Field(default_factory=list)

    # Fernet key(s) for secrets at rest, comma-separated, newest first (see db/encryption.py).
    secrets_key: str | None = None

    webhooks_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    webhook_concurrency: int = Field(default=64, ge=1, le=1000)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    # An endpoint whose deliveries have all failed for this long is disabled.
    webhook_disable_after_hours: float = Field(default=120.0, gt=0)
    # Multiplies the retry schedule (1.0 in production; tests shrink it).
    webhook_retry_scale: float = Field(default=1.0, gt=0)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
