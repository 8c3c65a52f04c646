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
# Every token secret written anywhere in the repository (defaults, the local stack, the
# tests, the docs' examples): anyone who read the source can sign tokens with them, so
# production refuses each. tests/security/test_outbound_and_secrets.py greps the
# repository and fails when a secret found there is missing here.
KNOWN_SECRETS = frozenset(
    {
        PLACEHOLDER_SECRET,
        "local-deployment-token-secret-0123456789",  # devkit/launcher.py: the local stack
        "test-secret-for-tokens-0123456789abcdef",  # tests/support.py
        "not-the-services-secret-0123456789abcdef",  # tests/security: a forged token's
        "another-secret-entirely-0123456789abcdef",  # tests/shared/test_web.py: the same
        "0123456789abcdef0123456789abcdef",  # the shape of an example anyone would type
        "a-real-production-secret-of-enough-length-123",  # once in a test of production
    }
)

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
    # How often a message may come back to its queue unacknowledged (its consumer died
    # holding it) before the broker parks it: the backstop for a message that crashes the
    # process each time. A crash also returns every other message the process held
    # (up to `consumer_prefetch`), so the limit stays well above the crashes a run sees.
    # Part of each queue's declaration, as the retry delays are: every instance of every
    # service must have the same value, or the broker refuses the others' declarations.
    consumer_delivery_limit: int = Field(default=10, ge=1, le=1000)
    start_consumers: bool = True
    # A server that stops answering (hung, not down) must fail calls, not hang them
    # (docs/runbook.md, "Timeouts"). The socket timeout bounds each wait for one answer of
    # the database, not a whole operation, so a report or an export reading many batches
    # has it for each batch; a server the monitor (one hello a heartbeat) finds silent for
    # the connect timeout is dropped, and calls then fail after the server-selection one.
    mongo_socket_timeout_s: float = Field(default=10.0, gt=0)
    mongo_connect_timeout_s: float = Field(default=2.0, gt=0)
    mongo_server_selection_timeout_s: float = Field(default=3.0, gt=0)
    mongo_heartbeat_s: float = Field(default=1.0, ge=0.5)  # PyMongo's floor is 0.5 s
    # The longest each /readyz check (a MongoDB ping, a RabbitMQ round trip) waits.
    readiness_timeout_s: float = Field(default=2.0, gt=0)
    # Where the service writes the database commands it sent, counted by collection, command
    # and filter keys, when it shuts down (`shared/command_counts.py`); unset: not counted.
    # The pipeline benchmark and the hot-path test set it.
    command_counts_dir: str | None = None

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment == "production":
            secret = self.token_secret.get_secret_value()
            if len(secret) < 32:
                raise ValueError(
                    "token_secret must be set to a real secret of at least 32 characters "
                    "outside development (MAILBOX_TOKEN_SECRET)"
                )
            if secret in KNOWN_SECRETS:
                raise ValueError(
                    "token_secret is one written in the repository, so anyone can sign tokens "
                    "with it: set a fresh one (MAILBOX_TOKEN_SECRET=$(openssl rand -hex 32))"
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
