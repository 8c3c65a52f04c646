"""Settings of the intake service (env prefix `MAILBOX_INTAKE_`, fallback `MAILBOX_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Polling, leases, the letters' outbox relay and paging."""

    model_config = SettingsConfigDict(env_prefix="MAILBOX_INTAKE_", extra="ignore", frozen=True)

    mongo_db: str = "mailbox_intake"
    platforms_file: Path | None = Field(
        default=None,
        description="platform configs JSON; default: the three platforms of Art. 2",
    )
    simulator_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(:\d+)?/?$",
        description="point every configured platform at this simulator (development, tests)",
    )
    poll_enabled: bool = Field(
        default=True, description="run the polling loops (off: only `poll now` polls)"
    )
    poll_interval_s: float = Field(default=60.0, gt=0, le=86_400)
    lease_s: float = Field(
        default=120.0, gt=0, le=3600, description="how long a poller's lease lasts unrenewed"
    )
    max_pages_per_cycle: int = Field(default=50, ge=1, le=10_000)
    max_idle_pages: int = Field(
        default=3, ge=1, le=100, description="pages in a row with nothing new before a cycle stops"
    )
    recent_errors_kept: int = Field(default=20, ge=1, le=500)
    outbox_sweep_interval_s: float = Field(
        default=5.0, gt=0, description="how often letters with unpublished events are looked for"
    )
    outbox_grace_s: float = Field(
        default=30.0,
        gt=0,
        description=(
            "a replica silent this long counts as gone: a sweep then publishes its outboxes"
            " (and any outbox left pending this long)"
        ),
    )
    relay_publish_concurrency: int = Field(default=64, ge=1, le=1024)
    relay_max_pending: int = Field(
        default=5000, ge=1, description="letters awaiting publication before polling waits"
    )
    default_page_size: int = Field(default=50, ge=1, le=200)
    max_raw_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="raw bytes kept of a quarantined record"
    )

    @model_validator(mode="after")
    def _grace_spans_sweeps(self) -> IntakeSettings:
        # Heartbeats are written on each sweep: a live replica must never look silent.
        if self.outbox_grace_s <= 2 * self.outbox_sweep_interval_s:
            raise ValueError("outbox_grace_s must exceed twice outbox_sweep_interval_s")
        return self
