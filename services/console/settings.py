"""Settings of the console (env prefix `MAILBOX_CONSOLE_`, fallback `MAILBOX_`).

Not a `ServiceSettings`: the console reaches no database and no broker, and it holds no
token secret, so it can sign no token; it only passes on the one routing gave the person.
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from shared.settings import Environment


class ConsoleSettings(BaseSettings):
    """Where the services answer, where sessions live, and how long they last."""

    model_config = SettingsConfigDict(env_prefix="MAILBOX_CONSOLE_", extra="ignore", frozen=True)

    environment: Environment = "development"
    redis_url: str = "redis://127.0.0.1:6379/0"
    intake_url: str = "http://127.0.0.1:8001"
    routing_url: str = "http://127.0.0.1:8002"
    deadlines_url: str = "http://127.0.0.1:8003"
    publishing_url: str = "http://127.0.0.1:8004"
    session_ttl_s: int = Field(
        default=3600,
        ge=60,
        le=86_400,
        description="a session unused this long ends (each page renews it), never past its token",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="mark the cookies Secure (HTTPS only); unset: in production only",
    )
    upstream_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="the longest one call to a service waits"
    )
    readiness_timeout_s: float = Field(default=2.0, gt=0)
    # A reply's five parts may each hold 8,000 characters, up to nine bytes each once
    # URL-encoded: 512 KiB takes the longest reply routing accepts.
    max_body_bytes: int = Field(default=524_288, ge=1024, le=4_194_304)
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def secure_cookies(self) -> bool:
        """Whether the cookies carry Secure (and the `__Host-` prefix it allows)."""
        return self.cookie_secure if self.cookie_secure is not None else self.is_production

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def url_of(self, service: str) -> str:
        """Base URL of one of the four services."""
        urls = {
            "intake": self.intake_url,
            "routing": self.routing_url,
            "deadlines": self.deadlines_url,
            "publishing": self.publishing_url,
        }
        return urls[service].rstrip("/")

    @model_validator(mode="after")
    def _secure_in_production(self) -> ConsoleSettings:
        # A session cookie sent over plain HTTP is a bearer token anyone on the path can take.
        if self.is_production and self.cookie_secure is False:
            raise ValueError("cookie_secure cannot be turned off in production")
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
        # MAILBOX_CONSOLE_<NAME> first, then the deployment's common MAILBOX_<NAME>
        # (MAILBOX_REDIS_URL, MAILBOX_ROUTING_URL, …), as the services read theirs.
        common = EnvSettingsSource(settings_cls, env_prefix="MAILBOX_")
        return init_settings, env_settings, common, dotenv_settings, file_secret_settings
