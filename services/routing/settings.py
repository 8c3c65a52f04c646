"""Settings of the routing service (env prefix `MAILBOX_ROUTING_`, fallback `MAILBOX_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

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
        default=5.0, gt=0, description="how often undelivered unit notices are retried"
    )
    summary_chars: int = Field(
        default=120, ge=20, le=1000, description="length of the slip's default 内容摘要"
    )
