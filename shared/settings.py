"""Settings common to every service.

Each service subclasses `ServiceSettings` with its own env prefix
(`MAILBOX_INTAKE_`, …). A value not set under the service's prefix falls back to
the common `MAILBOX_` prefix, so one `MAILBOX_MONGO_URL` serves a local stack
while a deployment can still point each service at its own server.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PLACEHOLDER_SECRET = "dev-only-insecure-token-secret-change-me"  # noqa: S105 - refused in production

Environment = Literal["development", "test", "production"]


class ServiceSettings(BaseSettings):
    """What every service needs to reach the stack and check tokens."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Environment = "development"
    mongo_url: str = "mongodb://127.0.0.1:27017/"
    mongo_db: str = "mailbox"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    exchange_name: str = "mailbox.events"
    token_secret: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The outbox sweep only recovers what a crash left behind (writes notify the relay); on
    # FerretDB it scans every aggregate collection, so it runs rarely.
    relay_interval_s: float = Field(default=30.0, gt=0)
    consumer_prefetch: int = Field(default=32, ge=1, le=1000)
    consumer_max_attempts: int = Field(default=6, ge=1, le=50)
    retry_delays_s: tuple[float, ...] = (0.5, 2.0, 10.0, 30.0, 120.0)
    start_consumers: bool = True

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment == "production":
            secret = self.token_secret.get_secret_value()
            if secret == PLACEHOLDER_SECRET or len(secret) < 32:
                raise ValueError(
                    "token_secret must be set to a real secret of at least 32 characters "
                    "outside development (MAILBOX_TOKEN_SECRET)"
                )
            if "guest:guest@" in self.amqp_url:
                raise ValueError("amqp_url must not use the default guest account in production")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        common = EnvSettingsSource(settings_cls, env_prefix="MAILBOX_")
        return init_settings, env_settings, common, dotenv_settings, file_secret_settings
