"""Settings of the routing service (env prefix `MAILBOX_ROUTING_`, fallback `MAILBOX_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    """Directory seed, repeat detection, paging and notice delivery settings."""

    model_config = SettingsConfigDict(env_prefix="MAILBOX_ROUTING_", extra="ignore", frozen=True)

    mongo_db: str = "mailbox_routing"
    directory_path: Path | None = Field(
        default=None,
        description="directory JSON loaded into an empty database; default: the packaged sample",
    )
    rules_path: Path | None = Field(
        default=None,
        description="rule set JSON loaded into an empty database; default: the packaged rules",
    )
    repeat_candidates_max: int = Field(
        default=2000,
        ge=0,
        le=100_000,
        description="most recent letters compared for repeats (same-writer letters always are)",
    )
    default_page_size: int = Field(default=50, ge=1, le=200)
    notice_sweep_interval_s: float = Field(
        default=30.0,
        gt=0,
        description=(
            "how often undelivered unit notices are retried (each retry reads the letters:"
            " a scan on FerretDB; a notice is delivered at once after its write anyway)"
        ),
    )
    desk_reconcile_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description=(
            "how often 待办's index is checked against every letter (also at start-up): it"
            " repairs what a crash between a letter's write and its entry's left behind"
        ),
    )
    summary_chars: int = Field(
        default=120, ge=20, le=1000, description="length of the slip's default 内容摘要"
    )
    # Administration, webhooks and search (directory_store, users, webhooks).
    bootstrap_admin_token_file: Path | None = Field(
        default=None,
        description="with no active admin at start-up: create user 'admin', write its token here",
    )
    token_max_ttl_days: int = Field(default=90, ge=1, le=3650)
    # Signing in with a password (users.sign_in).
    session_ttl_h: int = Field(
        default=12, ge=1, le=720, description="lifetime of the token a sign-in answers"
    )
    sign_in_max_failures: int = Field(
        default=5, ge=1, le=100, description="failed sign-ins in a row that lock the account"
    )
    sign_in_failure_window_s: int = Field(
        default=900, ge=1, le=86_400, description="failures older than this do not count"
    )
    sign_in_lockout_s: int = Field(
        default=900,
        ge=0,
        le=30 * 86_400,
        description="how long a lock lasts; 0: until an admin unlocks the account",
    )
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_backoff_base_s: float = Field(default=2.0, gt=0, le=3600)
    webhook_backoff_max_s: float = Field(default=900.0, gt=0, le=86_400)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    webhook_poll_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="how often due webhook retries are looked for"
    )
    webhook_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description=(
            "hosts a webhook may point at although they resolve to loopback, link-local,"
            " private or reserved addresses (comma-separated): an intranet receiver"
        ),
    )

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _hosts_list(cls, value: object) -> object:
        # One comma-separated variable (MAILBOX_ROUTING_WEBHOOK_ALLOWED_HOSTS=a,b) or a list.
        if isinstance(value, str):
            return tuple(host.strip() for host in value.split(",") if host.strip())
        return value

    @model_validator(mode="after")
    def _session_within_token_limit(self) -> RoutingSettings:
        # A sign-in issues a token like an admin does: no longer than any token may live.
        if self.session_ttl_h > self.token_max_ttl_days * 24:
            raise ValueError("session_ttl_h is longer than token_max_ttl_days allows")
        return self
